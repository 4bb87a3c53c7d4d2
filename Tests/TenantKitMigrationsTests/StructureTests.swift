import Foundation
import TenantKitTesting
import Testing

/// `Schema/structure.sql` is the schema the migrations make, so a reader can trust it.
@Suite struct StructureTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func checkedInStructureIsFresh() async throws {
        let fresh = try await SchemaStructure.dump()
        let path = Self.packageRoot.appendingPathComponent(SchemaStructure.path).path
        if ProcessInfo.processInfo.environment["TENANTKIT_WRITE_STRUCTURE"] == "1" {
            try fresh.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let checkedIn = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard fresh != checkedIn else { return }
        let freshLines = fresh.split(separator: "\n", omittingEmptySubsequences: false)
        let checkedInLines = checkedIn.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(freshLines, checkedInLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(freshLines.count, checkedInLines.count)
        Issue.record("""
            \(SchemaStructure.path) is stale (first difference at line \(line + 1): \
            \(line < freshLines.count ? "the migrations give \"\(freshLines[line])\"" : "the migrations' dump ends there")); \
            refresh it with `\(SchemaStructure.refreshCommand)` from the package root
            """)
    }
}
