import Crypto
import Foundation
import TenantKitPostgres
import TenantKit

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

/// A user's claim for `org` on backend `backendPID`, signed with `key`, as `SignedTenantContext` makes
/// it (the layout of Schema/0012): for the raw libpq baseline, which sends the same context
/// statement as OrgScope without TenantKit's code. A wrong claim reads no rows, so the baseline
/// fails loudly rather than measuring something else.
struct ClaimSigner: Sendable {
    let keyID: String
    private let innerPad: [UInt8]
    private let outerPad: [UInt8]
    let lifetimeSeconds: UInt64 = 120

    init(_ key: TenantContextKey) {
        keyID = key.id
        var secret = [UInt8]()
        let digits = Array(key.hexSecret.utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : c - UInt8(ascii: "a") + 10 }
        for i in stride(from: 0, to: digits.count, by: 2) { secret.append(nibble(digits[i]) << 4 | nibble(digits[i + 1])) }
        var block = secret.count > 64 ? Array(SHA256.hash(data: secret)) : secret
        block += [UInt8](repeating: 0, count: 64 - block.count)
        innerPad = block.map { $0 ^ 0x36 }
        outerPad = block.map { $0 ^ 0x5c }
    }

    /// The HMAC pads as hex digits, for the server-side signing of the pgbench scripts.
    var innerPadHex: String { Self.hex(innerPad) }
    var outerPadHex: String { Self.hex(outerPad) }

    func userClaim(org: UUID, user: UUID, backendPID: Int32, now: Date = Date()) -> String {
        let expiry = UInt64(now.timeIntervalSince1970) + lifetimeSeconds
        let payload = "11" + keyID + Self.hex(user) + Self.hex(org) + String(repeating: "0", count: 64)
            + Self.hex(UInt64(UInt32(bitPattern: backendPID)), width: 8) + Self.hex(expiry, width: 10)
        // HMAC by hand from the pads (the pgbench scripts sign with the same pads on the server).
        let mac = SHA256.hash(data: outerPad + SHA256.hash(data: innerPad + Array(payload.utf8)))
        return payload + Self.hex(mac)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
    static func hex(_ id: UUID) -> String { withUnsafeBytes(of: id.uuid) { hex($0) } }
    static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
