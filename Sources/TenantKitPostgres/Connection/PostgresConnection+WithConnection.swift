extension PostgresConnection {
    /// Opens a connection for `body` and closes it afterwards, whether `body` returns or throws.
    ///
    /// ```swift
    /// let version = try await PostgresConnection.withConnection(config) { try await $0.fetchOne("SHOW server_version", as: String.self) }
    /// ```
    public static func withConnection<T>(
        _ configuration: PostgresConfiguration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await connect(configuration)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }
}
