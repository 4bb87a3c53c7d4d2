import Foundation

/// One side of a comparison: TenantKit or a baseline, able to run a round of operations.
protocol Contender: AnyObject, Sendable {
    var name: String { get }
    /// True for TenantKit's own code paths; false for baselines.
    var isTenantKit: Bool { get }
    /// Rows handled per operation (1 for point reads, 10,000 for a bulk insert).
    var unitsPerOp: Int { get }
    /// What exactly this contender runs (SQL, role), printed in results.json.
    var note: String? { get }
    /// Runs `ops` operations and reports their timings.
    func runRound(ops: Int) async throws -> RoundSample
    /// Releases connections; called once, after the last round.
    func tearDown() async
}

extension Contender {
    var unitsPerOp: Int { 1 }
    var note: String? { nil }
}

/// A target of the issue: `contender` must reach `minRatio` times `baseline`'s throughput.
struct Target: Codable, Sendable {
    var label: String
    var contender: String
    var baseline: String
    var minRatio: Double
    var ratio: Double?
    var met: Bool?
}

/// A benchmark workload: makes its contenders (after loading whatever data it needs) and says how
/// many operations a round has. New workloads (the repository-level ones of issue 7, for example)
/// only need a new conforming type and a line in `allWorkloads`.
protocol Workload: Sendable {
    /// The workload's number in issue 7.
    var number: Int { get }
    var title: String { get }
    /// Operations per round at scale 1.
    var defaultOpsPerRound: Int { get }
    var defaultRounds: Int { get }
    /// The targets, named by contender.
    var targets: [Target] { get }
    /// Contenders in a fixed order; the first TenantKit one is the reference for the ratio column.
    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender]
    /// Extra figures (allocations per row at two sizes, load times...), reported as is.
    func extras(_ env: BenchEnvironment) async throws -> [String: Double]
}

extension Workload {
    var defaultRounds: Int { 5 }
    func extras(_ env: BenchEnvironment) async throws -> [String: Double] { [:] }
}

/// The results of one workload.
struct WorkloadResult: Codable, Sendable {
    var number: Int
    var title: String
    var roundsPerContender: Int
    var opsPerRound: Int
    var contenders: [ContenderResult]
    var targets: [Target]
    var extras: [String: Double]
    var seconds: Double
}

/// Runs the contenders in interleaved rounds: every round runs each contender once, starting with a
/// different one each round, so drift (caches, autovacuum, the other core's load) hits all alike.
func measure(_ workload: any Workload, env: BenchEnvironment, scale: Double, rounds: Int?) async throws -> WorkloadResult {
    let start = now()
    var contenders = try await workload.makeContenders(env)
    let filter = env.options.contenderFilter
    if !filter.isEmpty {
        for contender in contenders where !filter.contains(where: { contender.name.contains($0) }) { await contender.tearDown() }
        contenders.removeAll { contender in !filter.contains(where: { contender.name.contains($0) }) }
    }
    let opsPerRound = max(1, Int((Double(workload.defaultOpsPerRound) * scale).rounded()))
    let roundCount = rounds ?? workload.defaultRounds
    var samples = [[RoundSample]](repeating: [], count: contenders.count)
    do {
        // Warm-up: prepares statements, opens pooled connections, fills caches. Not recorded.
        for contender in contenders { _ = try await contender.runRound(ops: max(1, opsPerRound / 5)) }
        try await env.analyzeLoadedDatabases()
        for round in 0..<roundCount {
            for k in 0..<contenders.count {
                let i = (k + round) % contenders.count
                samples[i].append(try await contenders[i].runRound(ops: opsPerRound))
            }
            progress("  workload \(workload.number): round \(round + 1)/\(roundCount) done")
        }
    } catch {
        for contender in contenders { await contender.tearDown() }
        throw error
    }
    for contender in contenders { await contender.tearDown() }
    let results = zip(contenders, samples).map { contender, samples in
        ContenderResult(name: contender.name, isTenantKit: contender.isTenantKit, unitsPerOp: contender.unitsPerOp,
                        note: contender.note, samples: samples)
    }
    var targets = workload.targets
    for i in targets.indices {
        let a = results.first { $0.name == targets[i].contender }
        let b = results.first { $0.name == targets[i].baseline }
        if let a, let b, b.opsPerSecond > 0 {
            let ratio = a.opsPerSecond / b.opsPerSecond
            targets[i].ratio = ratio
            targets[i].met = ratio >= targets[i].minRatio
        }
    }
    let extras = try await workload.extras(env)
    return WorkloadResult(
        number: workload.number, title: workload.title, roundsPerContender: roundCount, opsPerRound: opsPerRound,
        contenders: results, targets: targets, extras: extras, seconds: Double(now() - start) / 1e9)
}

/// Progress goes to stderr so stdout holds only the report.
func progress(_ message: String) {
    FileHandleStderr.write(message + "\n")
}

enum FileHandleStderr {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in _ = Foundation.write(2, buffer.baseAddress, buffer.count) }
    }
}
