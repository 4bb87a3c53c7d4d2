import BenchMallocCounter
import Foundation

/// Monotonic nanoseconds.
@inline(__always)
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Heap allocations made by the process so far (see BenchMallocCounter).
@inline(__always)
func allocationsSoFar() -> UInt64 { tk_bench_allocations() }

/// What one contender did in one round.
struct RoundSample: Sendable {
    /// One latency per operation, in nanoseconds.
    var latencies: [UInt64] = []
    /// Wall time of the whole round (for concurrent rounds, less than the sum of latencies).
    var wallNanos: UInt64 = 0
    /// Operations completed.
    var ops: Int = 0
    /// Heap allocations in this process during the round; nil when the work ran in another process.
    var allocations: UInt64? = nil

    /// Times `ops` sequential calls of `body`, counting allocations.
    static func sequential(ops: Int, _ body: (Int) async throws -> Void) async rethrows -> RoundSample {
        var sample = RoundSample()
        sample.latencies.reserveCapacity(ops)
        let allocationsBefore = allocationsSoFar()
        let start = now()
        for i in 0..<ops {
            let t0 = now()
            try await body(i)
            sample.latencies.append(now() - t0)
        }
        sample.wallNanos = now() - start
        sample.allocations = allocationsSoFar() - allocationsBefore
        sample.ops = ops
        return sample
    }

    /// The same on a plain thread, for blocking baselines (raw libpq) that must stay off Swift's pool.
    static func sequentialBlocking(ops: Int, _ body: @escaping @Sendable (Int) throws -> Void) async throws -> RoundSample {
        try await onThread {
            var sample = RoundSample()
            sample.latencies.reserveCapacity(ops)
            let allocationsBefore = allocationsSoFar()
            let start = now()
            for i in 0..<ops {
                let t0 = now()
                try body(i)
                sample.latencies.append(now() - t0)
            }
            sample.wallNanos = now() - start
            sample.allocations = allocationsSoFar() - allocationsBefore
            sample.ops = ops
            return sample
        }
    }

    /// `tasks` concurrent tasks sharing `ops` operations; latencies are per operation.
    static func concurrent(
        ops: Int, tasks: Int, _ body: @escaping @Sendable (_ task: Int, _ i: Int) async throws -> Void
    ) async throws -> RoundSample {
        let allocationsBefore = allocationsSoFar()
        let start = now()
        let perTask = ops / tasks
        let latencies = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var mine: [UInt64] = []
                    mine.reserveCapacity(perTask)
                    for i in 0..<perTask {
                        let t0 = now()
                        try await body(task, i)
                        mine.append(now() - t0)
                    }
                    return mine
                }
            }
            var all: [UInt64] = []
            for try await part in group { all += part }
            return all
        }
        var sample = RoundSample()
        sample.wallNanos = now() - start
        sample.latencies = latencies
        sample.ops = latencies.count
        sample.allocations = allocationsSoFar() - allocationsBefore
        return sample
    }
}

/// Runs blocking work on a new thread and resumes the caller with its result.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// The summary of one contender over all its measured rounds.
struct ContenderResult: Codable, Sendable {
    var name: String
    var isTenantKit: Bool
    var rounds: Int
    var ops: Int
    /// Units (rows) per operation, when an operation handles several.
    var unitsPerOp: Int
    var medianMicros: Double
    var p99Micros: Double
    var meanMicros: Double
    var opsPerSecond: Double
    var unitsPerSecond: Double
    var allocationsPerOp: Double?
    /// Free-form facts about this contender (SQL used, role, caveats).
    var note: String?

    init(name: String, isTenantKit: Bool, unitsPerOp: Int, note: String?, samples: [RoundSample]) {
        self.name = name
        self.isTenantKit = isTenantKit
        self.unitsPerOp = unitsPerOp
        self.note = note
        rounds = samples.count
        var all = samples.flatMap(\.latencies)
        all.sort()
        ops = samples.reduce(0) { $0 + $1.ops }
        medianMicros = Self.percentile(all, 0.50) / 1000
        p99Micros = Self.percentile(all, 0.99) / 1000
        meanMicros = all.isEmpty ? 0 : Double(all.reduce(0, +)) / Double(all.count) / 1000
        let wall = Double(samples.reduce(0) { $0 + $1.wallNanos }) / 1e9
        opsPerSecond = wall > 0 ? Double(ops) / wall : 0
        unitsPerSecond = opsPerSecond * Double(unitsPerOp)
        let counted = samples.compactMap(\.allocations)
        allocationsPerOp = counted.count == samples.count && ops > 0
            ? Double(counted.reduce(0, +)) / Double(ops) : nil
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return Double(sorted[min(max(rank, 0), sorted.count - 1)])
    }
}

/// Peak resident memory of this process, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024  // Linux reports kilobytes
}

/// Resident memory of this process now, in bytes (`/proc/self/statm`).
func currentResidentBytes() -> Int {
    let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
    let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Runs workload 2's scoped read on a pool of 8 tasks for `seconds`, sampling resident memory after each round.
func soak(seconds: Int, env: BenchEnvironment) async throws -> BenchReport.Soak {
    let db = try await env.large()
    let contender = TenantKitPoolPointRead(
        name: "soak", scoped: true, db: db, keys: RunKeys(db), tasks: env.options.concurrency, context: env.signed)
    let clock = ContinuousClock()
    let start = clock.now
    var samples: [[Double]] = []
    var reads = 0
    while clock.now - start < .seconds(seconds) {
        _ = try await contender.runRound(ops: 5_000)
        reads += 5_000
        let elapsed = clock.now - start
        samples.append([Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                        (Double(currentResidentBytes()) / 1_048_576 * 10).rounded() / 10])
    }
    await contender.tearDown()
    return BenchReport.Soak(seconds: Double(seconds), reads: reads, samples: samples)
}
