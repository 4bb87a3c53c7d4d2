/// How one of TenantKit's tables is laid out on a Citus cluster, in the order they are created.
///
/// The verifier of the signed context (`tenantkit.verified_principal()`) runs inside every shard
/// query, on the worker, and reads the signing keys, memberships and API keys there. A policy
/// function on a shard cannot read a distributed table at all (Citus: "cannot execute a
/// distributed query from a query on a shard"), and with nested execution allowed it read nothing
/// on the worker that did not hold the org's shard. Reference tables have a copy on every node,
/// read locally: so what the verifier reads, and what those tables reference (`organizations`,
/// `users`), are reference tables; the org's working data is distributed by `org_id`, co-located.
public struct CitusTablePlan: Sendable, Equatable {
    /// A reference table (one shard, copied to every node) or a table hashed by `org_id`.
    public enum Kind: String, Sendable, Equatable {
        case reference
        case distributed
    }

    /// The table, schema-qualified where it is not in `public`.
    public let table: String
    public let kind: Kind
    /// Why it is laid out this way, for the command's output and the docs.
    public let reason: String

    /// TenantKit's tables, parents before children (a foreign key's target is created first). The
    /// first distributed table sets the co-location group the others join.
    public static let tenantKit: [CitusTablePlan] = [
        .init(table: "tenantkit.context_keys", kind: .reference, reason: "the verifier reads the signing keys on every node"),
        .init(table: "tenantkit.audit_keys", kind: .reference, reason: "audit chain triggers read the chain key on every node"),
        .init(table: "users", kind: .reference, reason: "sign-in finds a user by email before any org is active"),
        .init(table: "organizations", kind: .reference, reason: "referenced by memberships, which the verifier reads on every node"),
        .init(table: "memberships", kind: .reference, reason: "the verifier checks membership with every statement, on every node"),
        .init(table: "api_keys", kind: .reference, reason: "the verifier checks the presented key with every statement, on every node"),
        .init(table: "invitations", kind: .reference, reason: "its token is unique across orgs and looked up before any org is active"),
        .init(table: "email_domain_claims", kind: .reference, reason: "a verified domain is unique across orgs"),
        .init(table: "public_catalog_items", kind: .reference, reason: "the public catalog is read by every org"),
        .init(table: "tenantkit.sessions", kind: .reference, reason: "a session is found by its id before its org is known"),
        .init(table: "org_email_domains", kind: .distributed, reason: "one org's domains"),
        .init(table: "catalog_items", kind: .distributed, reason: "one org's private items"),
        .init(table: "runs", kind: .distributed, reason: "one org's runs"),
        .init(table: "ecu_accounts", kind: .distributed, reason: "one org's balance, locked by its ledger trigger"),
        .init(table: "ecu_ledger", kind: .distributed, reason: "one org's credit postings"),
        .init(table: "audit_chain_heads", kind: .distributed, reason: "one org's audit chain head"),
        .init(table: "audit_log", kind: .distributed, reason: "one org's audit chain"),
    ]

    /// The functions that read reference tables from inside a shard query (the verifier, the MAC it
    /// checks with, the users policy's membership test). Citus refuses any query from a function
    /// running on a shard unless `citus.allow_nested_distributed_execution` is on for it; the
    /// tables they read have a copy on the node itself, so the read stays local and sees the
    /// statement's own snapshot.
    public static let shardReaders = [
        "tenantkit.verified_principal()",
        "tenantkit.mac(text, text)",
        "tenantkit.user_shares_current_org(uuid)",
    ]
}
