import Foundation
import Logging
import TenantKitPostgres
import Synchronization
import TenantKitTesting
import Testing

/// A verb's `logger:` parameter: the statement's log lines go to the caller's logger, with its
/// metadata (a request id) and the connection's (`pg.backend`).
@Suite struct StatementLoggerTests {
    @Test func aStatementLogsToThePassedLoggerWithTheConnectionsMetadata() async throws {
        try await TestDatabase.with { db in
            let own = LogLines()
            let connection = try await PostgresConnection.connect(db.configuration, logger: own.logger(label: "own"))
            let request = LogLines()
            var requestLogger = request.logger(label: "request")
            requestLogger[metadataKey: "request_id"] = "r-17"

            _ = try await connection.query("SELECT 1 AS passed", logger: requestLogger)
            _ = try await connection.query("SELECT 2 AS own")
            await connection.close()

            let passed = request.lines.filter { $0.contains("SELECT 1 AS passed") }
            #expect(passed.count == 1)
            #expect(passed.allSatisfy { $0.contains("request_id=r-17") && $0.contains("pg.backend=\(connection.backendPID)") })
            #expect(!own.lines.contains { $0.contains("SELECT 1 AS passed") })
            #expect(own.lines.contains { $0.contains("SELECT 2 AS own") })
            #expect(!request.lines.contains { $0.contains("SELECT 2 AS own") })
        }
    }

    @Test func thePassedLoggerReachesThroughThePool() async throws {
        try await TestDatabase.with { db in
            let own = LogLines()
            let pool = PostgresPool(configuration: db.configuration, maxConnections: 1, logger: own.logger(label: "pool"))
            let request = LogLines()
            var requestLogger = request.logger(label: "request")
            requestLogger[metadataKey: "request_id"] = "r-18"
            let answer = try await pool.fetchOne("SELECT 42", as: Int32.self, logger: requestLogger)
            #expect(answer == 42)
            await pool.close()
            #expect(request.lines.contains { $0.contains("SELECT 42") && $0.contains("request_id=r-18") })
            #expect(!own.lines.contains { $0.contains("SELECT 42") })
        }
    }
}

/// Log lines kept in memory, as "message key=value ...", at debug level and above.
final class LogLines: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }

    func logger(label: String) -> Logger {
        var logger = Logger(label: label) { _ in Handler(lines: self) }
        logger.logLevel = .debug
        return logger
    }

    fileprivate func append(_ line: String) { storage.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.append(([event.message.description] + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " "))
        }
    }
}
