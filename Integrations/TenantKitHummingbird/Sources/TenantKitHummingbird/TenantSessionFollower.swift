import ServiceLifecycle
import TenantKit
import TenantKitPostgres

/// TenantKit's ``TenantKit/TenantStore/followSessionChanges(listening:)`` as a
/// swift-service-lifecycle `Service`: on its own LISTEN connection, it makes this instance's live
/// sessions follow switches and sign-outs made on any instance (in-flight reads cancelled on the
/// server and re-issued in the new organization). Runs until graceful shutdown.
///
/// Put it after the ``TenantPoolService`` of the same store, so it stops before the pool drains:
///
/// ```swift
/// let app = Application(router: router, services: [
///     TenantPoolService(pool: store.pool), TenantSessionFollower(store: store, listening: appRole),
/// ])
/// ```
public struct TenantSessionFollower: Service {
    /// The store whose live sessions follow.
    public let store: TenantStore
    /// The application role's connection settings, for the dedicated LISTEN connection.
    public let listenerConfiguration: PostgresConfiguration

    /// - Parameters:
    ///   - store: the store whose live sessions follow.
    ///   - listenerConfiguration: the application role's connection settings.
    public init(store: TenantStore, listening listenerConfiguration: PostgresConfiguration) {
        self.store = store
        self.listenerConfiguration = listenerConfiguration
    }

    /// Listens until graceful shutdown or cancellation.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await store.followSessionChanges(listening: listenerConfiguration)
            }
        } catch is CancellationError {
            // Shutting down: nothing left to follow.
        }
    }
}
