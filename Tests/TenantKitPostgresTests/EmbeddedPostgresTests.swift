import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

@Suite struct EmbeddedPostgresTests {
    @Test func missingBinariesSayWhatToInstall() async {
        let error = await captureError(EmbeddedPostgresError.self) {
            try EmbeddedPostgres.findBinaries(in: ["/nonexistent/bin"])
        }
        #expect(error?.message.contains("apt-get install postgresql") == true)
        #expect(error?.message.contains("DATABASE_URL") == true)
    }

    @Test func findsVersionedServerDirectories() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tk-pgroot-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for version in ["9", "15", "13"] {
            let bin = "\(root)/\(version)/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            for tool in ["initdb", "pg_ctl", "postgres"] {
                _ = FileManager.default.createFile(atPath: "\(bin)/\(tool)", contents: Data(), attributes: [.posixPermissions: 0o755])
            }
        }
        let candidates = EmbeddedPostgres.candidateDirectories(path: "/nonexistent", versionRoot: root)
        #expect(candidates == ["/nonexistent", "\(root)/15/bin", "\(root)/13/bin", "\(root)/9/bin"])
        #expect(try EmbeddedPostgres.findBinaries(in: candidates) == "\(root)/15/bin")
    }

    @Test func eachTestGetsItsOwnDatabase() async throws {
        try await TestDatabase.with { first in
            try await TestDatabase.with { second in
                #expect(first.name != second.name)
                let a = try await first.connect()
                try await a.execute("CREATE TABLE only_here (x int)")
                let b = try await second.connect()
                let seen = try await b.fetchOne("SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'", as: Int.self)
                #expect(seen == 0)
                await a.close()
                await b.close()
            }
        }
    }

    @Test func aSecondServerStartsAndStopsCleanly() async throws {
        let server = try await EmbeddedPostgres.start()
        let connection = try await PostgresConnection.connect(server.tcpConfiguration)
        #expect(try await connection.fetchOne("SELECT current_user::text", as: String.self) == "postgres")
        await connection.close()
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.directory))
    }
}
