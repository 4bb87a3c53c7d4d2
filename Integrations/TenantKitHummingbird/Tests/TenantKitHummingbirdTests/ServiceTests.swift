import Foundation
import Logging
import TenantKitPostgres
import ServiceLifecycle
import Synchronization
import TenantKit
import TenantKitHummingbird
import TenantKitTesting
import Testing

@Suite struct PoolServiceTests {
    /// Graceful shutdown lets the statement in flight finish, then closes every connection.
    @Test func gracefulShutdownDrainsThenCloses() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let pool = db.makePool(maxConnections: 2)
            try await pool.execute("SELECT 1")  // the pool is in use before the service starts
            let group = ServiceGroup(services: [TenantPoolService(pool: pool)], logger: Logger(label: "test"))
            let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)

            try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { tasks in
                tasks.addTask { try await group.run(); return .now }
                let slow = Task {
                    try await pool.withConnection { connection in
                        startedSignal.yield()
                        let text = try await connection.fetchOne("SELECT pg_sleep(0.5)::text || 'done'", as: String.self)
                        return (text, ContinuousClock.now)
                    }
                }
                for await _ in started { break }
                await group.triggerGracefulShutdown()
                let serviceReturned = try await tasks.next()!

                let (text, statementFinished) = try await slow.value
                #expect(text == "done")  // not cut off
                #expect(serviceReturned >= statementFinished)  // it waited for the statement
                #expect(await pool.openConnections == 0)
                do {
                    try await pool.execute("SELECT 1")
                    Issue.record("a closed pool leased a connection")
                } catch let error as PostgresClientError {
                    #expect(error.kind == .poolClosed)
                }
            }
        }
    }

    /// A drain that outlasts `drainTimeout` returns then; the connection still in use closes when it is returned.
    @Test func aSlowLeaseDoesNotHoldShutdownPastTheDrainTimeout() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let pool = db.makePool(maxConnections: 1)
            let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
            let slow = Task {
                try await pool.withConnection { connection in
                    startedSignal.yield()
                    try await connection.execute("SELECT pg_sleep(1)")
                }
            }
            for await _ in started { break }
            let service = TenantPoolService(pool: pool, drainTimeout: .milliseconds(100))
            let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
            let begun = ContinuousClock.now
            async let ran: Void = group.run()
            await group.triggerGracefulShutdown()
            try await ran
            #expect(ContinuousClock.now - begun < .milliseconds(900))  // did not wait for the statement
            #expect(await pool.leasedCount == 1)
            let refused = await #expect(throws: PostgresClientError.self) { try await pool.execute("SELECT 1") }
            #expect(refused?.message.contains("draining") == true)
            _ = try await slow.value
            #expect(await pool.openConnections == 0)
        }
    }

    /// Cancellation does not wait.
    @Test func cancellationClosesThePool() async throws {
        try await TestDatabase.with(template: .migrated) { db in
            let pool = db.makePool(maxConnections: 1)
            try await pool.execute("SELECT 1")
            let service = Task { try await TenantPoolService(pool: pool).run() }
            try await Task.sleep(for: .milliseconds(50))
            service.cancel()
            await #expect(throws: CancellationError.self) { try await service.value }
            #expect(await pool.openConnections == 0)
        }
    }
}

@Suite struct ErrorMappingTests {
    /// Every TenantError case, with tenant data in its payload, becomes its status and a body free of it.
    @Test func everyTenantErrorHasAStatusAndAFixedBody() throws {
        let org = UUID(), other = UUID()
        let cases: [(TenantError, Int, String)] = [
            (.noActiveOrganization, 409, "no_active_organization"),
            (.notAMember(orgID: org), 403, "not_a_member"),
            (.forbidden(action: "adding catalog items", required: .member), 403, "forbidden"),
            (.lastAdmin, 409, "last_admin"),
            (.orgSwitched(from: org, to: other), 409, "organization_switched"),
            (.pinnedToAPIKeyOrganization, 403, "pinned_to_api_key_organization"),
            (.insufficientCredits(balance: 70, requested: 71), 402, "insufficient_credits"),
            (.invitationRejected(.unknownToken), 404, "invitation_not_found"),
            (.invitationRejected(.expired), 410, "invitation_expired"),
            (.invitationRejected(.alreadyUsed), 410, "invitation_used"),
            (.invitationRejected(.wrongEmail), 403, "invitation_wrong_email"),
            (.invalidAPIKey, 401, "invalid_api_key"),
            (.invalidSession, 401, "invalid_session"),
            (.notFound("catalog item \(org)"), 404, "not_found"),
            (.invalidInput("slug ada@acme.test is bad"), 422, "invalid_input"),
            (.alreadyExists("slug acme-secret"), 409, "already_exists"),
        ]
        for (error, status, code) in cases {
            let mapped = TenantHTTPError(mapping: error)
            #expect(mapped.status.code == status, "\(error)")
            #expect(mapped.code == code)
            for secret in [org.uuidString, org.uuidString.lowercased(), other.uuidString.lowercased(), "70", "71", "ada@", "acme", "catalog item"] {
                #expect(!mapped.body.contains(secret), "\(code) leaks \(secret)")
            }
        }
    }

    @Test func anythingElseIsA500WithoutDetail() {
        struct Leaky: Error { let detail = "org 1234 of ada@acme.test" }
        for error: any Error in [Leaky(), PostgresClientError(.connectionFailed, "could not reach db.acme.internal"), CancellationError()] {
            let mapped = TenantHTTPError(mapping: error)
            #expect(mapped == .internalError)
            #expect(mapped.body == #"{"error":{"code":"internal_error","message":"Internal server error."}}"#)
        }
    }

    @Test func theRequestIDReachesLoggersThatKnowNothingOfTheRequest() async {
        let records = LogRecords()
        let logger = Logger(label: "tenantkit.pool", factory: { _ in RecordingLogHandler(records: records, metadataProvider: TenantRequestID.metadataProvider) })
        TenantRequestID.$current.withValue("req-7") { logger.info("inside") }
        logger.info("outside")
        #expect(records.lines == ["inside request_id=req-7", "outside"])
    }
}

/// Log lines as "message key=value ...", for the test above.
final class LogRecords: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    func append(_ line: String) { storage.withLock { $0.append(line) } }
}

struct RecordingLogHandler: LogHandler {
    let records: LogRecords
    var metadataProvider: Logger.MetadataProvider?
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(records: LogRecords, metadataProvider: Logger.MetadataProvider?) {
        self.records = records
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(metadataProvider?.get() ?? [:]) { $1 }.merging(event.metadata ?? [:]) { $1 }
        records.append(([event.message.description] + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " "))
    }
}
