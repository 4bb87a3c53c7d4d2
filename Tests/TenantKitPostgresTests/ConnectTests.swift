import Foundation
@testable import TenantKitPostgres
import TenantKitTesting
import Testing

/// Connecting without blocking: libpq's attempt is driven on an event loop, with its timeout
/// and cancellation enforced there.
@Suite struct ConnectTests {
    @Test func aServerThatNeverAnswersTimesOutAfterConnectTimeout() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let config = try PostgresConfiguration(url: "postgres://app@127.0.0.1:\(listener.port)/db?connect_timeout=2&sslmode=disable")
        let started = ContinuousClock.now
        let error = await captureError(PostgresClientError.self) { try await PostgresConnection.connect(config) }
        let elapsed = ContinuousClock.now - started
        #expect(error?.kind == .connectionFailed)
        #expect(error?.message.contains("timeout expired after 2 s") == true, "\(error.map(String.init(describing:)) ?? "")")
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(8))
    }

    @Test func cancellingAConnectAbandonsItAtOnce() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let config = try PostgresConfiguration(url: "postgres://app@127.0.0.1:\(listener.port)/db?connect_timeout=60&sslmode=disable")
        let connecting = Task { try await PostgresConnection.connect(config) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        connecting.cancel()
        let result = await connecting.result
        #expect(ContinuousClock.now - started < .seconds(3))
        guard case .failure(let error) = result else {
            Issue.record("a silent server cannot accept the connection")
            return
        }
        #expect(error is CancellationError)
    }

    @Test func whileOneConnectWaitsTheLoopStillServesOthers() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let loop = PostgresEventLoop(name: "tenantkit.test.connect")
        defer { loop.shutdown() }
        let config = try PostgresConfiguration(url: "postgres://app@127.0.0.1:\(listener.port)/db?connect_timeout=30&sslmode=disable")
        let stuck = Task { try await PostgresConnection.connect(config, eventLoop: loop) }
        defer { stuck.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        // The loop is free: a job queued on it runs while the other connect waits for its server.
        let ran = await withCheckedContinuation { continuation in loop.execute { continuation.resume(returning: loop.inEventLoop) } }
        #expect(ran)
    }

    @Test func onlyHostNamesNeedALookup() throws {
        let none: [String: String] = [:]
        #expect(!PostgresConfiguration(parameters: ["host": "127.0.0.1"]).needsNameLookup(none))
        #expect(!PostgresConfiguration(parameters: ["host": "::1,/tmp"]).needsNameLookup(none))
        #expect(!PostgresConfiguration(parameters: ["host": "db.example.com", "hostaddr": "10.0.0.5"]).needsNameLookup(none))
        #expect(!PostgresConfiguration(parameters: [:]).needsNameLookup(none))  // the default socket directory
        #expect(PostgresConfiguration(parameters: ["host": "/tmp,db.example.com"]).needsNameLookup(none))
        #expect(PostgresConfiguration(parameters: ["host": "localhost"]).needsNameLookup(none))
        #expect(PostgresConfiguration(parameters: [:]).needsNameLookup(["PGHOST": "db.internal"]))
        #expect(PostgresConfiguration(parameters: [:]).needsNameLookup(["PGSERVICE": "prod"]))
    }

    @Test func connectTimeoutFollowsLibpq() throws {
        let none: [String: String] = [:]
        #expect(try PostgresConfiguration(parameters: [:]).connectTimeoutSeconds(none) == 10)
        #expect(try PostgresConfiguration(parameters: ["connect_timeout": "1"]).connectTimeoutSeconds(none) == 2)
        #expect(try PostgresConfiguration(parameters: ["connect_timeout": "0"]).connectTimeoutSeconds(none) == nil)
        #expect(try PostgresConfiguration(parameters: [:]).connectTimeoutSeconds(["PGCONNECT_TIMEOUT": "7"]) == 7)
        let error = #expect(throws: PostgresClientError.self) {
            try PostgresConfiguration(parameters: ["connect_timeout": "soon"]).connectTimeoutSeconds(none)
        }
        #expect(error?.kind == .invalidConfiguration)
        #expect(error?.message.contains("\"soon\"") == true)
    }
}

/// A TCP port on loopback whose kernel completes the handshake but where nothing ever reads or
/// answers: a connect reaches its startup packet and then waits.
private struct SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 8) == 0 else { throw PostgresClientError(.connectionFailed, "cannot open a test listener") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
