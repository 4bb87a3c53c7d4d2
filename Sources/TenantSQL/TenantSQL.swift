// The TenantSQL module; see DESIGN.md.
