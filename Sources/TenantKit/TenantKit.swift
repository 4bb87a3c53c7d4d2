// TenantKit: repositories and OrgSession.
