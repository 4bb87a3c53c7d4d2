import Foundation
import TenantKitPostgres
import TenantSQL

/// `ecu_accounts`: one ECU credit account per organization. The balance changes only through
/// the ledger (the application role has no UPDATE here).
public struct CreditAccountsTable: DeclaredTable {
    public static let tableName = "ecu_accounts"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var balance: Column<Int64> { column("balance") }
    public var createdAt: Column<Date> { column("created_at") }
    public var updatedAt: Column<Date> { column("updated_at") }

    public var columns: [any DeclaredColumn] { [orgID, balance, createdAt, updatedAt] }
}

/// `ecu_ledger`: credits (positive) and charges (negative). A trigger applies each row to the
/// account, rejects overdrafts and skips a repeated `idempotency_key`; `balance_after` is computed.
public struct CreditLedgerTable: DeclaredTable {
    public static let tableName = "ecu_ledger"
    public static let scoping = TableScoping.tenant
    public let reference: TableReference
    public init(reference: TableReference) { self.reference = reference }

    public var orgID: OrgColumn<UUID> { orgColumn() }
    public var id: Column<UUID> { column("id") }
    public var amount: Column<Int64> { column("amount") }
    public var reason: Column<String> { column("reason") }
    public var idempotencyKey: Column<String> { column("idempotency_key") }
    public var balanceAfter: Column<Int64> { column("balance_after") }
    public var runID: Column<UUID?> { column("run_id") }
    public var createdAt: Column<Date> { column("created_at") }

    public var columns: [any DeclaredColumn] { [orgID, id, amount, reason, idempotencyKey, balanceAfter, runID, createdAt] }
}
