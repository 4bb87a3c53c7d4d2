import Foundation

/// One posting of the ECU ledger: positive amounts are grants, negative ones debits.
public struct LedgerEntry: Codable, Sendable, Equatable {
    public let id: UUID
    public let amount: Int64
    public let reason: String
    public let idempotencyKey: String
    public let balanceAfter: Int64
    public let runID: UUID?
    public let createdAt: Date
}
