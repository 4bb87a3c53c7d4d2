import Foundation
import TenantKitPostgres
import TenantSQL

/// The active organization's ECU credits. Every change is a ledger row; the database applies it to
/// the balance under a row lock, refuses overdrafts and ignores a repeated idempotency key, so
/// concurrent debits never lose an update or go below zero.
public struct CreditRepository: Sendable {
    let scope: OrgScope

    /// The largest single grant or debit, so no sum can overflow.
    public static let maximumAmount: Int64 = 1_000_000_000_000

    public func balance() async throws -> Int64 {
        let a = CreditAccountsTable.table
        return try await scope.fetchOptional(Select.from(a).columns(a.balance), as: Int64.self) ?? 0
    }

    /// Adds credits: a platform operator's act (ECU is bought, not granted by an org's admin), so
    /// the scope's actor must be ``OrgScope/Actor/platformOperator(_:)`` on a connection whose login
    /// is a member of `tenantkit_operator` (the database refuses grants from anyone else).
    /// Repeating an idempotency key returns the first grant.
    public func grant(_ amount: Int64, reason: String, idempotencyKey: String) async throws -> LedgerEntry {
        try Self.requirePositive(amount)
        guard case .platformOperator = scope.actor else {
            throw TenantError.forbidden(action: "granting credits (a platform operator's act)", required: .admin)
        }
        return try await post(amount, reason: reason, idempotencyKey: idempotencyKey, required: nil, action: "credits.granted")
    }

    /// Takes credits (members and admins). The same idempotency key twice debits once and returns the
    /// first result; a balance too low throws ``TenantError/insufficientCredits(balance:requested:)``
    /// and writes nothing.
    public func debit(_ amount: Int64, reason: String, idempotencyKey: String) async throws -> LedgerEntry {
        try Self.requirePositive(amount)
        return try await post(-amount, reason: reason, idempotencyKey: idempotencyKey, required: .member, action: "credits.debited")
    }

    /// Ledger entries, newest first, `limit` at a time.
    public func history(after cursor: PageCursor? = nil, limit: Int = 50) async throws -> Page<LedgerEntry> {
        let limit = try checkedPageLimit(limit, "entries")
        let after = try cursor.map { try $0.dateAndID(of: "ledger") }
        let l = CreditLedgerTable.table
        let select = Select.from(l).columns(Self.columns(l))
            .keysetPage(by: l.createdAt, l.id, after: after, descending: true, limit: limit)
        let entries = try await scope.fetchAll(select, as: LedgerEntry.self)
        let next = entries.count == limit
            ? entries.last.map { PageCursor(listing: "ledger", after: $0.createdAt, $0.id) } : nil
        return Page(items: entries, next: next)
    }

    /// The entry posted under `idempotencyKey`, if any.
    public func entry(idempotencyKey: String) async throws -> LedgerEntry? {
        let l = CreditLedgerTable.table
        return try await scope.fetchOptional(Select.from(l).columns(Self.columns(l)).where(l.idempotencyKey == idempotencyKey), as: LedgerEntry.self)
    }

    private func post(_ amount: Int64, reason: String, idempotencyKey: String, required: Role?, action: String) async throws -> LedgerEntry {
        try Self.validate(reason: reason, idempotencyKey: idempotencyKey)
        do {
            let posted = try await scope.transaction { tx -> LedgerEntry? in
                if let required { try await tx.require(required, to: "spending credits") }
                guard let entry = try await tx.insertLedger(amount, reason: reason, idempotencyKey: idempotencyKey, runID: nil) else {
                    return nil
                }
                try await tx.audit(action, target: entry.id.uuidString.lowercased(),
                                   details: ["amount": "\(amount)", "idempotency_key": idempotencyKey])
                return entry
            }
            if let posted { return posted }
        } catch let error as PostgresError where ConstraintViolation.insufficientCredits.matches(error) {
            throw TenantError.insufficientCredits(balance: try await balance(), requested: -amount)
        }
        // The key was used before: that first posting is the answer.
        guard let first = try await entry(idempotencyKey: idempotencyKey) else {
            throw TenantError.notFound("ledger entry for idempotency key")
        }
        // The same key on a grant and a debit is a caller's mistake, not a retry.
        guard (first.amount > 0) == (amount > 0) else {
            throw TenantError.alreadyExists("a \(first.amount > 0 ? "grant" : "debit") with this idempotency key")
        }
        return first
    }

    static func requirePositive(_ amount: Int64) throws {
        guard amount > 0, amount <= maximumAmount else {
            throw TenantError.invalidInput("an amount must be between 1 and \(maximumAmount) ECU")
        }
    }

    static func validate(reason: String, idempotencyKey: String) throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty, reason.count <= 200 else {
            throw TenantError.invalidInput("a reason must have 1 to 200 characters")
        }
        guard (1...200).contains(idempotencyKey.count) else {
            throw TenantError.invalidInput("an idempotency key must have 1 to 200 characters")
        }
    }

    /// What ``LedgerEntry`` is read from.
    static func columns(_ l: CreditLedgerTable) -> [any Selectable] { l.columns(excluding: l.orgID) }
}

extension ScopedTransaction {
    /// Inserts a ledger row; nil when the idempotency key was already used (the trigger skips it).
    func insertLedger(_ amount: Int64, reason: String, idempotencyKey: String, runID: UUID?) async throws -> LedgerEntry? {
        let l = CreditLedgerTable.table
        return try await fetchOptional(
            Insert.into(l).values(l.amount.set(amount), l.reason.set(reason), l.idempotencyKey.set(idempotencyKey), l.runID.set(runID))
                .returning(CreditRepository.columns(l)),
            as: LedgerEntry.self)
    }
}
