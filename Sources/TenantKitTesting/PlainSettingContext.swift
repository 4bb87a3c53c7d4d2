import Foundation
import TenantKitPostgres
import TenantSQL

/// The context TenantKit sent before claims were signed: three plain transaction-local settings
/// (`tenantkit.org_id`, `tenantkit.user_id`, `tenantkit.api_key_id`).
///
/// For tests of the builder on your own tables whose policies read `tenantkit.org_id`, and as the
/// benchmark's baseline. **Never in production**: any SQL running as the application role can
/// set these settings to any organization; TenantKit's schema ignores them.
public struct PlainSettingContext: TenantContext {
    public init() {}

    public func statement(orgID: UUID?, actor: OrgScope.Actor, backendPID: Int32) throws -> PostgresQuery {
        var user = "", key = ""
        switch actor {
        case .user(let id), .platformOperator(let id): user = id.uuidString.lowercased()
        case .apiKey(let id, _): key = id.uuidString.lowercased()
        }
        let org = orgID?.uuidString.lowercased() ?? ""
        return """
            SELECT set_config('tenantkit.org_id', \(org), true), \
            set_config('tenantkit.user_id', \(user), true), \
            set_config('tenantkit.api_key_id', \(key), true)
            """
    }

    public func auditStatement(orgID: UUID, action: String, target: String, details: [String: String]) -> PostgresQuery {
        "INSERT INTO audit_log (org_id, action, target, details) VALUES (\(orgID), \(action), \(target), \(JSONB(details)))"
    }
}
