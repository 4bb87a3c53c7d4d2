import Foundation

/// The organizations that used the most database time, from ``OrgUsage/top(_:)``: the idea of
/// Citus' `citus_stat_tenants`, kept in the application's memory.
///
/// ```swift
/// let report = store.usage.top(10)
/// for entry in report.entries { print(entry.orgID, entry.statements, entry.seconds) }
/// let json = try JSONEncoder().encode(report)
/// ```
public struct OrgUsageReport: Sendable, Codable, Equatable {
    /// One organization's usage since it took its slot.
    public struct Entry: Sendable, Codable, Equatable {
        /// The organization.
        public let orgID: UUID
        /// Statements its scopes ran (a transaction's count each of its statements).
        public let statements: Int
        /// Units of work (a pipeline or a transaction) that failed.
        public let failures: Int
        /// Database time of its units of work, in seconds, measured around each round trip or
        /// transaction; includes ``overcountSeconds``.
        public let seconds: Double
        /// At most this much of ``seconds`` belongs to the organizations whose slot it took; 0 while
        /// the figures are exact.
        public let overcountSeconds: Double

        /// An entry with the figures as given.
        public init(orgID: UUID, statements: Int, failures: Int, seconds: Double, overcountSeconds: Double) {
            self.orgID = orgID
            self.statements = statements
            self.failures = failures
            self.seconds = seconds
            self.overcountSeconds = overcountSeconds
        }
    }

    /// When recording started, or was last reset.
    public let since: Date
    /// The most organizations the report keeps track of at once.
    public let slots: Int
    /// The organizations with the most time, most first.
    public let entries: [Entry]

    /// A report with the figures as given.
    public init(since: Date, slots: Int, entries: [Entry]) {
        self.since = since
        self.slots = slots
        self.entries = entries
    }
}
