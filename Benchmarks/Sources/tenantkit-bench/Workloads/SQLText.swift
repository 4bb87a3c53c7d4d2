/// SQL text shared by TenantKit and the baselines, so all run exactly the same statements. The
/// TenantKit contenders render theirs with the TenantSQL builder; the benchmark checks at start-up
/// that the builder produces this text.
enum SQLText {
    /// Workload 1/2: a run by id, as the builder renders it in a scope (org predicate first).
    static let runByID = #"SELECT "runs"."id", "runs"."status", "runs"."cost", "runs"."created_at" FROM "runs" WHERE "runs"."org_id" = $1 AND "runs"."id" = $2"#
    /// The context statement OrgScope sends ahead of every scoped statement with TenantKit's
    /// `SignedTenantContext` (a user's claim; checked at start-up, see `checkContextStatements`).
    static let signedContext = "SELECT set_config('tenantkit.claim', $1, true)"
    /// The same for `PlainSettingContext` (TenantKitTesting): the context of before issue 10.
    static let plainContext = "SELECT set_config('tenantkit.org_id', $1, true), set_config('tenantkit.user_id', $2, true), set_config('tenantkit.api_key_id', $3, true)"
    /// Workload 6: ten columns of mixed types.
    static let decodeRows = "SELECT id, small, number, big, score, active, name, note, created_at, payload FROM bench_decode ORDER BY id LIMIT $1"
}
