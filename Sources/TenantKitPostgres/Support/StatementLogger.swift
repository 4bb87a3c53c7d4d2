import Logging

/// Where a statement's log lines go: the logger passed to the verb that sent it (`logger:`, with
/// the caller's metadata such as a request id), else the connection's or the pool's own.
///
/// The passed logger travels as a task-local value from the verb down to the connection, so every
/// line the statement causes (the statement itself, a broken connection, a failed reset) carries
/// the caller's metadata, whatever layer logs it.
package enum StatementLogger {
    @TaskLocal package static var passed: Logger?

    /// The logger for a line about a statement: the passed one, with `own`'s metadata added where
    /// the passed one has none under that key (`pg.backend`), or `own` when none was passed.
    package static func current(_ own: Logger) -> Logger {
        guard var logger = passed else { return own }
        for (key, value) in own.handler.metadata where logger[metadataKey: key] == nil {
            logger[metadataKey: key] = value
        }
        return logger
    }

    /// Runs `body` with `logger` as the logger of the statements it sends.
    package static func with<T>(_ logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await $passed.withValue(logger) { try await body() }
    }
}

extension PostgresExecutor {
    /// Runs one statement, logging to `logger` (for example a request's, carrying its id).
    public func query(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRows {
        try await StatementLogger.with(logger) { try await self.query(query) }
    }

    /// Runs statements in one round trip, logging to `logger`.
    public func pipeline(_ queries: [PostgresQuery], logger: Logger) async throws -> [PostgresRows] {
        try await StatementLogger.with(logger) { try await self.pipeline(queries) }
    }

    /// Runs a statement and returns the rows it changed, logging to `logger`.
    @discardableResult
    public func execute(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        try await StatementLogger.with(logger) { try await self.execute(query) }
    }

    /// Every row, decoded, logging to `logger`.
    public func fetchAll<T: Decodable>(_ query: PostgresQuery, as type: T.Type, logger: Logger) async throws -> [T] {
        try await StatementLogger.with(logger) { try await self.fetchAll(query, as: type) }
    }

    /// The first row, decoded, or nil, logging to `logger`.
    public func fetchOptional<T: Decodable>(_ query: PostgresQuery, as type: T.Type, logger: Logger) async throws -> T? {
        try await StatementLogger.with(logger) { try await self.fetchOptional(query, as: type) }
    }

    /// The first row, decoded, logging to `logger`; throws when there is none.
    public func fetchOne<T: Decodable>(_ query: PostgresQuery, as type: T.Type, logger: Logger) async throws -> T {
        try await StatementLogger.with(logger) { try await self.fetchOne(query, as: type) }
    }
}
