import Foundation

/// Where one migration stands in a database.
public struct MigrationState: Sendable, Hashable, Encodable {
    /// The possible states.
    public enum State: String, Sendable, Hashable, Encodable {
        /// Recorded in `schema_migrations` with the file's current checksum.
        case applied
        /// Not recorded yet.
        case pending
        /// Recorded, but the file changed since (checksum or name differs): drift.
        case changed
        /// Recorded, but no file has its version any more: drift.
        case missingFile
    }

    /// The source it belongs to (``MigrationSource/name``).
    public let source: String
    /// The version number (`3` for `0003_invitations.sql`).
    public let version: Int
    /// The name part of the file name (`invitations`).
    public let name: String
    /// The file name; for a missing file, the name it had when applied.
    public let fileName: String
    /// Applied, pending, or drift.
    public let state: State
    /// SHA-256 of the file now (nil when the file is missing).
    public let checksum: String?
    /// SHA-256 recorded when it was applied (nil when pending).
    public let appliedChecksum: String?
    /// When it was applied (nil when pending).
    public let appliedAt: Date?
    /// How long applying it took, in milliseconds (nil when pending).
    public let durationMs: Int?

    /// True for ``State/changed`` and ``State/missingFile``.
    public var isDrift: Bool { state == .changed || state == .missingFile }

    /// `source/fileName`, or the file name alone for TenantKit's own migrations.
    public var displayName: String { source == "tenantkit" ? fileName : "\(source)/\(fileName)" }
}

/// Every migration of a directory compared with what a database recorded.
public struct MigrationStatus: Sendable, Encodable {
    /// In version order, including applied migrations whose file is gone.
    public let migrations: [MigrationState]

    /// Migrations not applied yet, in the order `up` would apply them.
    public var pending: [MigrationState] { migrations.filter { $0.state == .pending } }

    /// The files of `files` that are pending, in order.
    func pendingFiles(of files: [Migration]) -> [Migration] {
        let pending = Set(self.pending.map { "\($0.source)/\($0.version)" })
        return files.filter { pending.contains("\($0.source)/\($0.version)") }
    }
    /// Applied migrations whose file changed or disappeared.
    public var drift: [MigrationState] { migrations.filter(\.isDrift) }
    /// Nothing pending and no drift.
    public var isUpToDate: Bool { migrations.allSatisfy { $0.state == .applied } }

    enum CodingKeys: String, CodingKey { case migrations, pending, drift, upToDate }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(migrations, forKey: .migrations)
        try container.encode(pending.map(\.displayName), forKey: .pending)
        try container.encode(drift.map(\.displayName), forKey: .drift)
        try container.encode(isUpToDate, forKey: .upToDate)
    }
}

/// One migration that `up` applied.
public struct AppliedMigration: Sendable, Hashable, Encodable {
    /// The source it belongs to.
    public let source: String
    /// The version number.
    public let version: Int
    /// The name part of the file name.
    public let name: String
    /// The file name.
    public let fileName: String
    /// Milliseconds the file took on the server.
    public let durationMs: Int
    /// False for a `-- tenantkit:no-transaction` file.
    public let ranInTransaction: Bool

    /// `source/fileName`, or the file name alone for TenantKit's own migrations.
    public var displayName: String { source == "tenantkit" ? fileName : "\(source)/\(fileName)" }
}

/// What `up` did (or, for a dry run, would do).
public struct MigrationRun: Sendable, Encodable {
    /// Applied by this run, in order (empty for a dry run).
    public let applied: [AppliedMigration]
    /// Pending before this run, in order (for a dry run: what would be applied).
    public let pending: [String]
    /// Migrations that were already applied before this run.
    public let alreadyApplied: Int
    /// True when nothing was changed because this was a dry run.
    public let dryRun: Bool
    /// For a dry run: the SQL `up` would send, file by file.
    public let script: String?
}

/// Progress reported while `up` runs.
public enum MigrationEvent: Sendable {
    /// About to run this file.
    case applying(Migration)
    /// The file ran and was recorded.
    case applied(AppliedMigration)
}
