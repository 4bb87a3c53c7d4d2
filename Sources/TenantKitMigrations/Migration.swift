import TenantKitPostgres
import Foundation

/// One migration file, `NNNN_name.sql`, as read from disk.
public struct Migration: Sendable, Hashable, Encodable {
    /// The source it belongs to (``MigrationSource/name``).
    public let source: String
    /// The number the file name starts with.
    public let version: Int
    /// The part of the file name after the version, without `.sql` (`organizations`).
    public let name: String
    /// The file name (`0002_organizations.sql`).
    public let fileName: String
    /// The SQL text.
    public let sql: String
    /// SHA-256 of the file's bytes, lowercase hex. A changed file no longer matches what was applied.
    public let checksum: String
    /// False when the file starts with `-- tenantkit:no-transaction`: it then holds one statement
    /// (such as `CREATE INDEX CONCURRENTLY`) and runs outside a transaction.
    public let runsInTransaction: Bool

    /// The directive line that makes a file run outside a transaction.
    public static let noTransactionDirective = "-- tenantkit:no-transaction"

    enum CodingKeys: String, CodingKey { case source, version, name, fileName, checksum, runsInTransaction }

    /// `source/fileName`, or the file name alone for TenantKit's own migrations.
    public var displayName: String { source == "tenantkit" ? fileName : "\(source)/\(fileName)" }

    init(source: String, version: Int, name: String, fileName: String, bytes: [UInt8]) throws {
        self.source = source
        self.version = version
        self.name = name
        self.fileName = fileName
        self.checksum = SHA256.hex(bytes)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MigrationDirectoryProblem(fileName, "is not valid UTF-8")
        }
        self.sql = text
        let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        if firstLine.hasPrefix("-- tenantkit:") {
            guard firstLine == Self.noTransactionDirective else {
                throw MigrationDirectoryProblem(fileName, "has an unknown directive `\(firstLine)` (the only one is `\(Self.noTransactionDirective)`)")
            }
            runsInTransaction = false
        } else {
            runsInTransaction = true
        }
        try checkStatements()
    }

    /// What the runner can check before anything runs: a no-transaction file holds exactly one
    /// statement (several would run in an implicit transaction, which `CONCURRENTLY` refuses), and
    /// other files do not end the runner's transaction themselves.
    private func checkStatements() throws {
        let statements = SQLStatementSplitter.split(sql)
        if !runsInTransaction {
            guard statements.count == 1 else {
                throw MigrationDirectoryProblem(
                    fileName, "is marked `\(Self.noTransactionDirective)` and must hold exactly one statement; it holds \(statements.count)")
            }
            return
        }
        for statement in statements {
            let words = statement.leadingWords
            let first = words.first ?? ""
            let controlsTransaction = ["BEGIN", "COMMIT", "END", "ABORT", "START"].contains(first)
                || (first == "ROLLBACK" && !(words.count > 1 && (words[1] == "TO")))
                || (first == "PREPARE" && words.count > 1 && words[1] == "TRANSACTION")
            if controlsTransaction {
                throw MigrationDirectoryProblem(
                    fileName, "line \(statement.line): `\(first)` is not allowed; each file already runs in its own transaction "
                        + "(start the file with `\(Self.noTransactionDirective)` to run one statement outside a transaction)")
            }
        }
    }
}

/// One thing wrong with a migrations directory (a file name, a gap, a duplicate version).
public struct MigrationDirectoryProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file concerned, or nil for a problem of the directory (a gap).
    public let fileName: String?
    public let message: String

    init(_ fileName: String?, _ message: String) {
        self.fileName = fileName
        self.message = message
    }

    public var description: String { fileName.map { "\($0) \(message)" } ?? message }
}

/// Reads and checks a directory of `NNNN_name.sql` files.
enum MigrationDirectory {
    /// Splits `NNNN_name.sql` (at least four digits, an underscore, then lowercase letters, digits and
    /// underscores, starting with a letter or digit) into version and name.
    static func parse(fileName: String) -> (version: Int, name: String)? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        let isDigit: (Character) -> Bool = { ("0"..."9").contains($0) }
        guard digits.count >= 4, digits.allSatisfy(isDigit), let version = Int(digits),
              let first = name.first, first != "_",
              name.allSatisfy({ ("a"..."z").contains($0) || isDigit($0) || $0 == "_" })
        else { return nil }
        return (version, String(name))
    }

    /// Every migration in version order; throws every problem found at once, before anything runs.
    static func load(_ source: MigrationSource) throws -> [Migration] {
        let directory = source.directory
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
            throw MigrationError(
                .directoryNotFound,
                "migrations directory \(directory) (source \(source.name)) does not exist: looked in \(absolute)")
        }
        let names = try fm.contentsOfDirectory(atPath: directory).sorted()
        var problems: [MigrationDirectoryProblem] = []
        var migrations: [Migration] = []
        var versions: Set<Int> = []  // of every well-named file, so a file with another problem is no "gap"
        for fileName in names where fileName.lowercased().hasSuffix(".sql") {
            guard let (version, name) = parse(fileName: fileName) else {
                problems.append(MigrationDirectoryProblem(
                    fileName, "is not named NNNN_name.sql (a version of at least four digits, an underscore, "
                        + "then lowercase letters, digits and underscores)"))
                continue
            }
            versions.insert(version)
            do {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(fileName)))
                migrations.append(try Migration(source: source.name, version: version, name: name, fileName: fileName, bytes: bytes))
            } catch let problem as MigrationDirectoryProblem {
                problems.append(problem)
            } catch {
                problems.append(MigrationDirectoryProblem(fileName, "cannot be read: \(error)"))
            }
        }
        migrations.sort { ($0.version, $0.fileName) < ($1.version, $1.fileName) }
        let byVersion = Dictionary(grouping: migrations, by: \.version)
        for version in byVersion.keys.sorted() where byVersion[version]!.count > 1 {
            let files = byVersion[version]!.map(\.fileName).joined(separator: ", ")
            problems.append(MigrationDirectoryProblem(nil, "duplicate version \(version): \(files)"))
        }
        if let highest = versions.max() {
            let missing = (1...highest).filter { !versions.contains($0) }
            if !missing.isEmpty {
                let list = missing.map { String(format: "%04d", $0) }.joined(separator: ", ")
                problems.append(MigrationDirectoryProblem(
                    nil, "gap in versions: \(list) missing (versions must run 0001, 0002, ... without holes)"))
            }
        }
        guard problems.isEmpty else { throw MigrationError(invalidDirectory: directory, problems: problems) }
        return migrations
    }
}
