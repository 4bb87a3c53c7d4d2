// A test that imports TenantKitTesting gets the throwaway server (`EmbeddedPostgres`) and the
// isolation linter (`Doctor`) too, as before each moved to a target of its own.
@_exported import TenantKitDoctor
@_exported import TenantKitEmbeddedPostgres
