// The TenantKit module; see DESIGN.md.
