// The Migrations module; see DESIGN.md.
