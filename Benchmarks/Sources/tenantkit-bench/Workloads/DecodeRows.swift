import BenchLibPQ
import Foundation
import TenantKitPostgres

/// Ten columns of mixed types, as workload 6 decodes them.
struct DecodedRow: Decodable, Sendable {
    let id: UUID
    let small: Int16
    let number: Int32
    let big: Int64
    let score: Double
    let active: Bool
    let name: String
    let note: String?
    let createdAt: Date
    let payload: Data
}

/// The same row read by position through `init(row:)`: no keyed container.
struct PositionalRow: PostgresRowDecodable {
    let value: DecodedRow
    init(row: PostgresRow) throws {
        value = DecodedRow(
            id: try row.decode(at: 0), small: try row.decode(at: 1), number: try row.decode(at: 2), big: try row.decode(at: 3),
            score: try row.decode(at: 4), active: try row.decode(at: 5), name: try row.decode(at: 6), note: try row.decode(at: 7),
            createdAt: try row.decode(at: 8), payload: try row.decode(at: 9))
    }
}

func decodeQuery(_ rows: Int) -> PostgresQuery {
    // A literal, not unsafeSQL: dynamic text would taint the connection and skip the statement cache.
    let query: PostgresQuery = "SELECT id, small, number, big, score, active, name, note, created_at, payload FROM bench_decode ORDER BY id LIMIT \(Int64(rows))"
    precondition(query.sql == SQLText.decodeRows, "the baselines send SQLText.decodeRows: keep the two texts equal")
    return query
}

/// Workload 6: fetch and decode N rows x 10 columns into Swift structs; also decoding alone.
struct DecodeWorkload: Workload {
    let number = 6
    let title = "Decode rows of 10 mixed columns into Swift structs (one operation = all rows)"
    let defaultOpsPerRound = 20
    let rows: Int
    static let decodable = "TenantKit fetchAll(as: Decodable)"
    static let tuple = "TenantKit row.decode(tuple)"
    static let rowInit = "TenantKit fetchAll(as: PostgresRowDecodable)"
    static let rowInitOnly = "decode only: TenantKit init(row:)"
    static let raw = "raw libpq (binary, hand-written decode)"
    static let nio = "postgres-nio query + decode(tuple)"
    static let decodableOnly = "decode only: TenantKit Decodable"
    static let tupleOnly = "decode only: TenantKit tuple"
    static let rawOnly = "decode only: raw libpq"

    var targets: [Target] {
        [Target(label: "rows by position (init(row:)) >= 0.8x raw libpq", contender: Self.rowInit, baseline: Self.raw, minRatio: 0.8),
         Target(label: "Decodable >= 0.5x raw libpq", contender: Self.decodable, baseline: Self.raw, minRatio: 0.5)]
    }

    func makeContenders(_ env: BenchEnvironment) async throws -> [any Contender] {
        let db = try await env.large()
        var contenders: [any Contender] = [
            try await TenantKitDecode(name: Self.decodable, db: db, rows: rows, style: .decodable, prefetched: false),
            try await TenantKitDecode(name: Self.tuple, db: db, rows: rows, style: .tuple, prefetched: false),
            try await TenantKitDecode(name: Self.rowInit, db: db, rows: rows, style: .rowInit, prefetched: false),
            try RawDecodeContender(name: Self.raw, db: db, rows: rows, prefetched: false),
            try await TenantKitDecode(name: Self.decodableOnly, db: db, rows: rows, style: .decodable, prefetched: true),
            try await TenantKitDecode(name: Self.tupleOnly, db: db, rows: rows, style: .tuple, prefetched: true),
            try await TenantKitDecode(name: Self.rowInitOnly, db: db, rows: rows, style: .rowInit, prefetched: true),
            try RawDecodeContender(name: Self.rawOnly, db: db, rows: rows, prefetched: true),
        ]
        if !env.options.skipNIO { contenders.insert(NIODecode(name: Self.nio, db: db, rows: rows), at: 3) }
        return contenders
    }

    /// Allocations per row when decoding 1,000 and `rows` rows: constant per row means no hidden
    /// per-result growth.
    func extras(_ env: BenchEnvironment) async throws -> [String: Double] {
        let db = try await env.large()
        var extras: [String: Double] = [:]
        for count in Set([1_000, rows]).sorted() {
            let tk = try await TenantKitDecode(name: "", db: db, rows: count, style: .decodable, prefetched: true)
            let tkSample = try await tk.runRound(ops: 3)
            await tk.tearDown()
            extras["allocations per row, TenantKit Decodable, \(count) rows"] = Double(tkSample.allocations!) / Double(3 * count)
            let tuple = try await TenantKitDecode(name: "", db: db, rows: count, style: .tuple, prefetched: true)
            let tupleSample = try await tuple.runRound(ops: 3)
            await tuple.tearDown()
            extras["allocations per row, TenantKit tuple, \(count) rows"] = Double(tupleSample.allocations!) / Double(3 * count)
            let raw = try RawDecodeContender(name: "", db: db, rows: count, prefetched: true)
            let rawSample = try await raw.runRound(ops: 3)
            extras["allocations per row, raw libpq, \(count) rows"] = Double(rawSample.allocations!) / Double(3 * count)
        }
        return extras
    }
}

final class TenantKitDecode: Contender, @unchecked Sendable {
    enum Style { case decodable, tuple, rowInit }
    let name: String
    let isTenantKit = true
    let unitsPerOp: Int
    let note: String?
    private let connection: PostgresConnection
    private let style: Style
    private let prefetched: PostgresRows?

    init(name: String, db: BenchDatabase, rows: Int, style: Style, prefetched: Bool) async throws {
        self.name = name
        self.style = style
        unitsPerOp = rows
        connection = try await PostgresConnection.connect(db.bypass)
        self.prefetched = prefetched ? try await connection.query(decodeQuery(rows)) : nil
        let how = switch style {
        case .decodable: "PostgresRows.decode(as: DecodedRow.self)"
        case .tuple: "PostgresRow.decode(UUID.self, Int16.self, ...) per row"
        case .rowInit: "PostgresRows.decode(as: PositionalRow.self), init(row:) reading each column by position"
        }
        note = (prefetched ? "decoding a result fetched once; " : "query + decode; ") + how
    }

    func runRound(ops: Int) async throws -> RoundSample {
        try await RoundSample.sequential(ops: ops) { _ in
            let rows: PostgresRows
            if let prefetched { rows = prefetched } else { rows = try await connection.query(decodeQuery(unitsPerOp)) }
            let count: Int
            switch style {
            case .decodable:
                count = try rows.decode(as: DecodedRow.self).count
            case .tuple:
                let decoded = try rows.map { row in
                    let (id, small, number, big, score, active, name, note, createdAt, payload) = try row.decode(
                        UUID.self, Int16.self, Int32.self, Int64.self, Double.self, Bool.self, String.self, String?.self, Date.self, Data.self)
                    return DecodedRow(id: id, small: small, number: number, big: big, score: score, active: active, name: name,
                                      note: note, createdAt: createdAt, payload: payload)
                }
                count = decoded.count
            case .rowInit:
                count = try rows.decode(as: PositionalRow.self).count
            }
            if count != unitsPerOp { throw BenchError("decoded \(count) rows, expected \(unitsPerOp)") }
        }
    }

    func tearDown() async { await connection.close() }
}

final class RawDecodeContender: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = false
    let unitsPerOp: Int
    let note: String?
    private let connection: RawConnection
    private let prefetched: Bool
    private let held: HeldResult?

    /// A PGresult kept for the decode-only contender, cleared with it.
    final class HeldResult: @unchecked Sendable {
        let result: OpaquePointer
        init(_ result: OpaquePointer) { self.result = result }
        deinit { PQclear(result) }
    }

    init(name: String, db: BenchDatabase, rows: Int, prefetched: Bool) throws {
        self.name = name
        self.prefetched = prefetched
        unitsPerOp = rows
        connection = try RawConnection(db.bypass.parameters)
        try connection.prepare("decode", SQLText.decodeRows)
        if prefetched {
            var limit = Int64(rows).bigEndian
            let conn = connection
            held = try withUnsafeBytes(of: &limit) { bytes in
                // Copy the result so it outlives execPrepared's PQclear.
                try conn.execPrepared("decode", [bytes]) { HeldResult(PQcopyResult($0, Int32(PG_COPYRES_ATTRS | PG_COPYRES_TUPLES))!) }
            }
        } else {
            held = nil
        }
        note = prefetched ? "decoding a PGresult fetched once" : "PQexecPrepared (binary) + decode"
    }

    static func decodeAll(_ result: OpaquePointer) -> [DecodedRow] {
        let n = PQntuples(result)
        var rows: [DecodedRow] = []
        rows.reserveCapacity(Int(n))
        for r in 0..<n {
            rows.append(DecodedRow(
                id: RawDecode.uuid(RawDecode.cell(result, r, 0)!),
                small: RawDecode.int16(RawDecode.cell(result, r, 1)!),
                number: RawDecode.int32(RawDecode.cell(result, r, 2)!),
                big: RawDecode.int64(RawDecode.cell(result, r, 3)!),
                score: RawDecode.double(RawDecode.cell(result, r, 4)!),
                active: RawDecode.bool(RawDecode.cell(result, r, 5)!),
                name: RawDecode.text(RawDecode.cell(result, r, 6)!),
                note: RawDecode.cell(result, r, 7).map(RawDecode.text),
                createdAt: RawDecode.date(RawDecode.cell(result, r, 8)!),
                payload: RawDecode.bytes(RawDecode.cell(result, r, 9)!)))
        }
        return rows
    }

    func runRound(ops: Int) async throws -> RoundSample {
        let connection = self.connection, rows = unitsPerOp, held = self.held
        return try await RoundSample.sequentialBlocking(ops: ops) { _ in
            let count: Int
            if let held {
                count = Self.decodeAll(held.result).count
            } else {
                var limit = Int64(rows).bigEndian
                count = try withUnsafeBytes(of: &limit) { bytes in
                    try connection.execPrepared("decode", [bytes]) { Self.decodeAll($0).count }
                }
            }
            if count != rows { throw BenchError("decoded \(count) rows, expected \(rows)") }
        }
    }

    func tearDown() async {}
}

final class NIODecode: Contender, @unchecked Sendable {
    let name: String
    let isTenantKit = false
    let unitsPerOp: Int
    let note: String? = "PostgresClient.query + rows.decode((UUID, Int16, ..., ByteBuffer).self)"
    private let client: NIOClient

    init(name: String, db: BenchDatabase, rows: Int) {
        self.name = name
        unitsPerOp = rows
        client = NIOClient(parameters: db.bypass.parameters, maxConnections: 1)
    }

    func runRound(ops: Int) async throws -> RoundSample {
        try await RoundSample.sequential(ops: ops) { _ in
            let count = try await client.decodeRows(limit: unitsPerOp)
            if count != unitsPerOp { throw BenchError("decoded \(count) rows, expected \(unitsPerOp)") }
        }
    }

    func tearDown() async { await client.shutdown() }
}
