import Foundation

/// A small deterministic generator (SplitMix64), so every contender reads the same keys in the same order.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Which run each point read asks for: random runs, their orgs, fixed by the seed.
struct RunKeys: Sendable {
    let orgs: [UUID]
    let runs: [UUID]
    init(_ db: BenchDatabase, count: Int = 20_000, seed: UInt64 = 7) {
        var random = SeededRandom(seed: seed)
        var orgs: [UUID] = [], runs: [UUID] = []
        for _ in 0..<count {
            let n = Int.random(in: 1...db.runCount, using: &random)
            orgs.append(BenchIDs.org(db.orgOfRun(n)))
            runs.append(BenchIDs.run(n))
        }
        self.orgs = orgs
        self.runs = runs
    }
    var count: Int { runs.count }
}

/// Replaces `$1...$n` in SQL with pgbench expressions (highest number first, so `$1` never eats `$10`).
func pgbenchSQL(_ sql: String, _ values: [String]) -> String {
    var text = sql
    for (i, value) in values.enumerated().reversed() { text = text.replacingOccurrences(of: "$\(i + 1)", with: value) }
    return text
}
