import Foundation
import TenantKitPostgres

/// A throwaway PostgreSQL server: `initdb` into a temporary directory, started on its own port and
/// unix socket, removed when the process ends.
///
/// ```swift
/// let server = try await EmbeddedPostgres.start()
/// let pool = PostgresPool(configuration: server.configuration)
/// ```
///
/// When the process runs as root, the server runs as the unprivileged `postgres` user (PostgreSQL
/// refuses root). Cleanup happens at normal exit and, through a small detached watchdog, also when the
/// process crashes or is killed: no stray servers or directories are left behind.
public final class EmbeddedPostgres: Sendable {
    /// A superuser connection to the `postgres` database, over the unix socket.
    public let configuration: PostgresConfiguration
    /// The same server over TCP on 127.0.0.1.
    public let tcpConfiguration: PostgresConfiguration
    public let port: Int
    /// The temporary directory holding the data directory, socket and log.
    public let directory: String
    private let binaries: String
    private let runAs: String?

    private init(directory: String, binaries: String, port: Int, runAs: String?, password: String?) {
        self.directory = directory
        self.binaries = binaries
        self.port = port
        self.runAs = runAs
        self.configuration = PostgresConfiguration(parameters: [
            "host": directory, "port": "\(port)", "user": "postgres", "dbname": "postgres",
        ])
        var tcp = [
            "host": "127.0.0.1", "port": "\(port)", "user": "postgres", "dbname": "postgres", "sslmode": "disable",
        ]
        tcp["password"] = password
        self.tcpConfiguration = PostgresConfiguration(parameters: tcp)
    }

    /// Where server binaries are looked for: each `PATH` entry, then `/usr/lib/postgresql/*/bin`, newest first.
    public static func candidateDirectories(
        path: String? = ProcessInfo.processInfo.environment["PATH"],
        versionRoot: String = "/usr/lib/postgresql"
    ) -> [String] {
        var directories = (path ?? "").split(separator: ":").map(String.init)
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: versionRoot)) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            directories.append("\(versionRoot)/\(version)/bin")
        }
        return directories
    }

    /// The first directory holding `initdb`, `pg_ctl` and `postgres`; throws a message saying what to install.
    public static func findBinaries(in directories: [String] = candidateDirectories()) throws -> String {
        let fm = FileManager.default
        for directory in directories {
            let all = ["initdb", "pg_ctl", "postgres"].allSatisfy { fm.isExecutableFile(atPath: "\(directory)/\($0)") }
            if all { return directory }
        }
        throw EmbeddedPostgresError(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or under "
                + "/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install postgresql`) "
                + "or set DATABASE_URL to a server where the role may CREATE DATABASE.")
    }

    /// Starts a new server. Blocking work (initdb, pg_ctl) runs on a separate thread.
    ///
    /// - Parameters:
    ///   - tcpPassword: when given, TCP logins need a password (`scram-sha-256`; the superuser's is
    ///     `tcpPassword`, and ``tcpConfiguration`` carries it). The unix socket always trusts.
    ///     Without it, both trust every login.
    ///   - settings: server settings (`postgres -c name=value`) beside the throwaway defaults, for
    ///     example `["max_prepared_transactions": "4"]`. A name or value that PostgreSQL refuses
    ///     fails the start, and the error carries the server's log.
    public static func start(tcpPassword: String? = nil, settings: [String: String] = [:]) async throws -> EmbeddedPostgres {
        for (name, value) in settings {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) else {
                throw EmbeddedPostgresError("server setting name \"\(name)\" is not a PostgreSQL setting name (letters, digits, _ and .)")
            }
            guard !value.contains(where: { $0 == "'" || $0 == "\\" || $0.isNewline }) else {
                throw EmbeddedPostgresError("the value of server setting \(name) contains a quote, a backslash or a line break")
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try startBlocking(tcpPassword: tcpPassword, settings: settings) })
            }
        }
    }

    /// Whether the server binaries ``start(tcpPassword:settings:)`` would use have the loadable
    /// library `name` (for example `"tenantkit_context"`) installed beside them.
    public static func hasLibrary(_ name: String) -> Bool {
        guard let binaries = try? findBinaries() else { return false }
        // The server's own directory (PATH may hold links to it): <prefix>/bin/postgres, <prefix>/lib.
        let server = URL(fileURLWithPath: "\(binaries)/postgres").resolvingSymlinksInPath()
        let libraries = server.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("lib")
        return FileManager.default.fileExists(atPath: libraries.appendingPathComponent("\(name).so").path)
    }

    /// Restarts the server (a fast shutdown: connections are closed, then it starts again with the
    /// same settings, port and data) and returns once it accepts connections.
    public func restart() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try self.run("pg_ctl", ["-D", self.dataDirectory, "-l", "\(self.directory)/server.log", "-w", "-t", "60",
                                            "-m", "fast", "restart"])
                })
            }
        }
    }

    private static func startBlocking(tcpPassword: String?, settings: [String: String]) throws -> EmbeddedPostgres {
        let binaries = try findBinaries()
        var template = Array("/tmp/tenantkit-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw EmbeddedPostgresError("cannot create a temporary directory") }
        let directory = String(cString: made)
        let runAs = getuid() == 0 ? try unprivilegedUser() : nil
        if let runAs {
            guard let entry = getpwnam(runAs) else { throw EmbeddedPostgresError("no user \(runAs)") }
            chown(directory, entry.pointee.pw_uid, entry.pointee.pw_gid)
        }
        let server = EmbeddedPostgres(
            directory: directory, binaries: binaries, port: try freePort(), runAs: runAs, password: tcpPassword)
        do {
            var authentication = ["-A", "trust"]
            if let tcpPassword {
                let passwordFile = "\(directory)/superuser.password"
                try Data(tcpPassword.utf8).write(to: URL(fileURLWithPath: passwordFile))
                if let runAs, let entry = getpwnam(runAs) { chown(passwordFile, entry.pointee.pw_uid, entry.pointee.pw_gid) }
                authentication = ["--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(passwordFile)"]
            }
            try server.run("initdb", ["-D", server.dataDirectory, "-U", "postgres"] + authentication + ["-E", "UTF8",
                                      "--locale=C", "--no-sync", "--no-instructions"])
            server.startWatchdog()
            let defaults = [
                "-p \(server.port)", "-k \(directory)", "-c listen_addresses=127.0.0.1",
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
                "-c max_connections=300", "-c shared_buffers=128MB",
            ] + settings.sorted { $0.key < $1.key }.map { "-c \($0.key)='\($0.value)'" }
            let options = defaults.joined(separator: " ")
            try server.run("pg_ctl", ["-D", server.dataDirectory, "-l", "\(directory)/server.log", "-w", "-t", "60",
                                      "-o", options, "start"])
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    var dataDirectory: String { "\(directory)/data" }

    /// Stops the server at once and removes its directory.
    public func stop() {
        if let pidText = try? String(contentsOfFile: "\(dataDirectory)/postmaster.pid", encoding: .utf8),
           let pid = pid_t(pidText.split(separator: "\n").first ?? "")
        {
            kill(pid, SIGQUIT)  // immediate shutdown; the data is throwaway
            for _ in 0..<200 where kill(pid, 0) == 0 { usleep(25_000) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The last lines of the server log, for error messages.
    public func logTail(lines: Int = 20) -> String {
        let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Runs a server program (as the unprivileged user when we are root); throws with its output on failure.
    private func run(_ program: String, _ arguments: [String]) throws {
        var command = ["\(binaries)/\(program)"] + arguments
        if let runAs { command = [try Self.runuserPath(), "-u", runAs, "--"] + command }
        // Output goes to a file, not a pipe: pg_ctl's server would hold a pipe open forever.
        let outputPath = "\(directory)/\(program).out"
        let status = try spawnAndWait(command, outputPath: outputPath)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw EmbeddedPostgresError("\(program) failed (exit \(status)): \(text)\n\(logTail())")
        }
    }

    /// A detached shell that outlives a crash of this process: once we are gone, it stops the server
    /// and removes the directory. The outer shell exits at once, so no zombie is left for us to reap.
    private func startWatchdog() {
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            pid=$(head -n 1 '\(dataDirectory)/postmaster.pid' 2>/dev/null)
            [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null
            for i in $(seq 1 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -rf '\(directory)'
            """
        let quoted = "'" + script.replacingOccurrences(of: "'", with: "'\\''") + "'"
        _ = try? spawnAndWait(["/bin/sh", "-c", "setsid /bin/sh -c \(quoted) </dev/null >/dev/null 2>&1 &"],
                              outputPath: "/dev/null")
    }

    private static func unprivilegedUser() throws -> String {
        for name in ["postgres", "nobody"] where getpwnam(name) != nil { return name }
        throw EmbeddedPostgresError("running as root, and there is no `postgres` or `nobody` user to run PostgreSQL as")
    }

    private static func runuserPath() throws -> String {
        for path in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        where FileManager.default.isExecutableFile(atPath: path) { return path }
        throw EmbeddedPostgresError("running as root needs `runuser` (util-linux) to start PostgreSQL as an unprivileged user")
    }

    /// A TCP port that is free right now on 127.0.0.1.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EmbeddedPostgresError("cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw EmbeddedPostgresError("cannot find a free TCP port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The throwaway server could not be found or started; the message says what to do.
public struct EmbeddedPostgresError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// posix_spawn + waitpid: Foundation's `Process.waitUntilExit` can hang off the main thread on Linux.
private func spawnAndWait(_ command: [String], outputPath: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, command[0], &actions, nil, &argv, environ)
    guard spawned == 0 else {
        throw EmbeddedPostgresError("cannot start \(command[0]): \(String(cString: strerror(spawned)))")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS are macros Swift cannot import.
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
