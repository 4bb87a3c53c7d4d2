import ArgumentParser
import Foundation
import Synchronization
import TenantKitEmbeddedPostgres

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Run a throwaway PostgreSQL server.",
        subcommands: [Start.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a throwaway PostgreSQL server, print its DATABASE_URL, and keep it running until interrupted.",
            discussion: "The server lives in a temporary directory that is removed when this command ends (Ctrl-C)."
        )

        func run() async throws {
            let server = try await EmbeddedPostgres.start()
            // Unbuffered, so a script reading the pipe sees the URL at once.
            FileHandle.standardOutput.write(Data("""
                DATABASE_URL=\(server.configuration.url(maskingPassword: false))
                # over TCP: \(server.tcpConfiguration.url(maskingPassword: false))
                # Ctrl-C stops the server and removes \(server.directory)

                """.utf8))
            await waitForTermination()
            server.stop()
        }
    }
}

/// Suspends until SIGINT or SIGTERM arrives.
func waitForTermination() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let once = ResumeOnce(continuation)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
            source.setEventHandler { once.resume() }
            source.resume()
            SignalSources.keep(source)
        }
    }
}

private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, Never>?>
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = Mutex(continuation) }
    func resume() { continuation.withLock { $0.take()?.resume() } }
}

private enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}
