import TenantKitPostgres

/// Why a migration command stopped. `description` is meant for a terminal: it names the file,
/// the line and the server's message.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; a struct so new kinds do not break a caller's `switch`.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The migrations directory does not exist.
        public static let directoryNotFound = Kind(raw: "directory not found")
        /// Bad file names, duplicate versions, gaps or bad directives; see ``MigrationError/problems``.
        public static let invalidDirectory = Kind(raw: "invalid migrations directory")
        /// An applied file changed, or an applied migration has no file; see ``MigrationError/drift``.
        public static let drift = Kind(raw: "drift")
        /// A migration file failed on the server; nothing of it was recorded.
        public static let migrationFailed = Kind(raw: "migration failed")
        /// Another runner held the migration lock for longer than the lock timeout.
        public static let lockTimeout = Kind(raw: "lock timeout")
        /// `new NAME` was given a name that cannot be part of a file name.
        public static let invalidName = Kind(raw: "invalid name")
        public var description: String { raw }
    }

    public let kind: Kind
    /// The full message.
    public let message: String
    /// For ``Kind/invalidDirectory``: every problem found.
    public var problems: [MigrationDirectoryProblem] = []
    /// For ``Kind/drift``: the migrations whose file no longer matches what was applied.
    public var drift: [MigrationState] = []
    /// For ``Kind/migrationFailed``: the file that failed.
    public var fileName: String?
    /// For ``Kind/migrationFailed``: the 1-based line in that file, when it could be determined.
    public var line: Int?
    /// For ``Kind/migrationFailed``: the 1-based column on that line, when the server gave a position.
    public var column: Int?
    /// For ``Kind/migrationFailed``: the server's error.
    public var postgresError: PostgresError?

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    init(invalidDirectory directory: String, problems: [MigrationDirectoryProblem]) {
        self.init(.invalidDirectory, "migrations in \(directory) are not valid; nothing was run:\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n"))
        self.problems = problems
    }

    init(drift: [MigrationState]) {
        let lines = drift.map { state -> String in
            switch state.state {
            case .missingFile:
                "  - \(state.displayName): applied (checksum \(state.appliedChecksum ?? "?")) but the file is gone"
            default:
                "  - \(state.displayName): changed after it was applied (applied checksum \(state.appliedChecksum ?? "?"), file now \(state.checksum ?? "?"))"
            }
        }
        self.init(.drift, "applied migrations no longer match their files; nothing was run:\n"
            + lines.joined(separator: "\n")
            + "\nRestore the applied files as they were and put the change in a new migration (`tenantkit migrate new NAME`).")
        self.drift = drift
    }

    public var description: String { message }
}
