import Foundation
import TenantKitPostgres

/// The pgbench baseline: PostgreSQL's own C load generator, `-M prepared`, with a custom script of the
/// same SQL, run as a subprocess against the same server. Its per-transaction log gives latencies;
/// its reported tps (without connection time) gives throughput.
final class PgBenchContender: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = false
    let note: String?
    private let executable: String
    private let script: String
    private let configuration: PostgresConfiguration
    private let clients: Int
    private let scratch: String
    private let variables: @Sendable (_ round: Int) -> [String: String]
    private var round = 0

    /// - Parameters:
    ///   - script: the pgbench script text (`\set`, `\startpipeline`, SQL with `:variables`).
    ///   - variables: `-D` definitions for each round (round number given), for unique keys.
    init(name: String, script: String, configuration: PostgresConfiguration, clients: Int, env: BenchEnvironment,
         variables: @escaping @Sendable (Int) -> [String: String] = { _ in [:] }) throws {
        guard let executable = findExecutable("pgbench") else { throw BenchError("pgbench not found (apt-get install postgresql-client)") }
        self.name = name
        self.executable = executable
        self.script = "\(env.scratch)/\(name.filter { $0.isLetter || $0.isNumber }).pgbench"
        self.configuration = configuration
        self.clients = clients
        self.scratch = env.scratch
        self.variables = variables
        self.note = "pgbench -M prepared -c \(clients) -j \(min(clients, 2)), script: " + script.replacingOccurrences(of: "\n", with: " ; ")
        try script.write(toFile: self.script, atomically: true, encoding: .utf8)
    }

    func runRound(ops: Int) async throws -> RoundSample {
        round += 1
        let transactions = max(1, ops / clients)
        let prefix = "\(scratch)/pgblog\(round)"
        let output = "\(scratch)/pgbench.out"
        let p = configuration.parameters
        var command = [executable, "-n", "-M", "prepared", "-c", "\(clients)", "-j", "\(min(clients, 2))",
                       "-t", "\(transactions)", "-f", script, "-l", "--log-prefix=\(prefix)"]
        if let host = p["host"] { command += ["-h", host] }
        if let port = p["port"] { command += ["-p", port] }
        if let user = p["user"] { command += ["-U", user] }
        for (key, value) in variables(round).sorted(by: { $0.key < $1.key }) { command += ["-D", "\(key)=\(value)"] }
        command.append(p["dbname"] ?? "postgres")
        var environment: [String: String] = [:]
        if let password = p["password"] { environment["PGPASSWORD"] = password }
        let status = try await onThread { [command, environment] in try runProgram(command, environment: environment, outputPath: output) }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw BenchError("pgbench failed (exit \(status)):\n\(text)") }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst(6).prefix { $0 != " " }), tps > 0
        else { throw BenchError("no tps in pgbench output:\n\(text)") }
        if text.contains("failed: ") , let failed = text.split(separator: "\n").first(where: { $0.contains("number of failed transactions") }),
           !failed.contains(": 0 ") {
            throw BenchError("pgbench transactions failed:\n\(text)")
        }
        var sample = RoundSample()
        let files = (try? FileManager.default.contentsOfDirectory(atPath: scratch))?.filter { $0.hasPrefix("pgblog\(round).") } ?? []
        for file in files {
            let path = "\(scratch)/\(file)"
            let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            for entry in log.split(separator: "\n") {
                let fields = entry.split(separator: " ")
                if fields.count >= 3, let micros = UInt64(fields[2]) { sample.latencies.append(micros * 1000) }
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        sample.ops = transactions * clients
        sample.wallNanos = UInt64(Double(sample.ops) / tps * 1e9)
        return sample
    }

    func tearDown() async { try? FileManager.default.removeItem(atPath: script) }
}
