import BenchLibPQ
import Foundation

/// The raw libpq baseline: a blocking connection driven directly from Swift, with named prepared
/// statements, binary parameters and binary results, and no TenantKit code at all. Used from one
/// plain thread at a time (see `RoundSample.sequentialBlocking`).
final class RawConnection: @unchecked Sendable {
    let pg: OpaquePointer
    /// Reused parameter arrays, so the loop itself allocates nothing.
    private var values = [UnsafePointer<CChar>?](repeating: nil, count: 64)
    private var lengths = [Int32](repeating: 0, count: 64)
    private var formats = [Int32](repeating: 1, count: 64)

    init(_ parameters: [String: String]) throws {
        let keys = Array(parameters.keys)
        let cKeys = keys.map { strdup($0) }
        let cValues = keys.map { strdup(parameters[$0]!) }
        defer { (cKeys + cValues).forEach { free($0) } }
        let keyPointers = cKeys.map { UnsafePointer($0) } + [nil]
        let valuePointers = cValues.map { UnsafePointer($0) } + [nil]
        guard let pg = PQconnectdbParams(keyPointers, valuePointers, 0) else { throw BenchError("libpq: out of memory") }
        guard PQstatus(pg) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(pg))
            PQfinish(pg)
            throw BenchError("raw libpq cannot connect: \(message)")
        }
        self.pg = pg
    }

    deinit { PQfinish(pg) }

    func prepare(_ name: String, _ sql: String) throws {
        let result = PQprepare(pg, name, sql, 0, nil)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw BenchError("raw prepare failed: \(errorText(result))") }
    }

    /// Simple-protocol command, checked.
    func exec(_ sql: String) throws {
        let result = PQexec(pg, sql)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw BenchError("raw exec failed: \(errorText(result))") }
    }

    /// Runs a prepared statement with binary parameters (each a byte buffer, nil for NULL) and binary
    /// results; `body` reads the result before it is cleared.
    func execPrepared<R>(_ name: String, _ params: [UnsafeRawBufferPointer?], _ body: (OpaquePointer) throws -> R) throws -> R {
        setParams(params)
        let result = PQexecPrepared(pg, name, Int32(params.count), values, lengths, formats, 1)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw BenchError("raw exec failed: \(errorText(result))") }
        return try body(result!)
    }

    /// Runs prepared statements in one pipeline (one round trip, one implicit transaction); `body`
    /// sees the last statement's result.
    func pipeline<R>(_ statements: [(name: String, params: [UnsafeRawBufferPointer?])], _ body: (OpaquePointer) throws -> R) throws -> R {
        guard PQenterPipelineMode(pg) == 1 else { throw BenchError("raw: cannot enter pipeline mode") }
        for statement in statements {
            setParams(statement.params)
            guard PQsendQueryPrepared(pg, statement.name, Int32(statement.params.count), values, lengths, formats, 1) == 1 else {
                throw BenchError("raw send failed: \(String(cString: PQerrorMessage(pg)))")
            }
        }
        guard PQpipelineSync(pg) == 1, PQflush(pg) == 0 else { throw BenchError("raw sync failed") }
        var last: OpaquePointer?
        var failure: String?
        for _ in statements {
            while let result = PQgetResult(pg) {
                let status = PQresultStatus(result)
                if status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK, failure == nil { failure = errorText(result) }
                if let last { PQclear(last) }
                last = result
            }
        }
        let sync = PQgetResult(pg)
        PQclear(sync)
        PQexitPipelineMode(pg)
        defer { if let last { PQclear(last) } }
        if let failure { throw BenchError("raw pipeline failed: \(failure)") }
        return try body(last!)
    }

    /// COPY FROM STDIN with text-format data already in `data`.
    func copyIn(_ sql: String, data: [UInt8]) throws {
        let start = PQexec(pg, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            throw BenchError("raw COPY failed to start: \(errorText(start))")
        }
        PQclear(start)
        let chunk = 256 * 1024
        try data.withUnsafeBufferPointer { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = min(chunk, buffer.count - offset)
                let sent = UnsafeRawPointer(buffer.baseAddress! + offset).withMemoryRebound(to: CChar.self, capacity: n) {
                    PQputCopyData(pg, $0, Int32(n))
                }
                guard sent == 1 else { throw BenchError("raw COPY send failed") }
                offset += n
            }
        }
        guard PQputCopyEnd(pg, nil) == 1 else { throw BenchError("raw COPY end failed") }
        var failure: String?
        while let result = PQgetResult(pg) {
            if PQresultStatus(result) != PGRES_COMMAND_OK { failure = errorText(result) }
            PQclear(result)
        }
        if let failure { throw BenchError("raw COPY failed: \(failure)") }
    }

    private func setParams(_ params: [UnsafeRawBufferPointer?]) {
        for (i, param) in params.enumerated() {
            if let param {
                values[i] = param.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(bitPattern: 1)
                lengths[i] = Int32(param.count)
            } else {
                values[i] = nil
                lengths[i] = 0
            }
        }
    }

    private func errorText(_ result: OpaquePointer?) -> String {
        guard let result else { return String(cString: PQerrorMessage(pg)) }
        return String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Binary decoders for the raw baseline: what any hand-written libpq client does.
enum RawDecode {
    @inline(__always)
    static func cell(_ result: OpaquePointer, _ row: Int32, _ column: Int32) -> UnsafeRawBufferPointer? {
        if PQgetisnull(result, row, column) == 1 { return nil }
        return UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: Int(PQgetlength(result, row, column)))
    }
    @inline(__always)
    static func uuid(_ b: UnsafeRawBufferPointer) -> UUID { UUID(uuid: b.loadUnaligned(as: uuid_t.self)) }
    @inline(__always)
    static func int16(_ b: UnsafeRawBufferPointer) -> Int16 { Int16(bigEndian: b.loadUnaligned(as: Int16.self)) }
    @inline(__always)
    static func int32(_ b: UnsafeRawBufferPointer) -> Int32 { Int32(bigEndian: b.loadUnaligned(as: Int32.self)) }
    @inline(__always)
    static func int64(_ b: UnsafeRawBufferPointer) -> Int64 { Int64(bigEndian: b.loadUnaligned(as: Int64.self)) }
    @inline(__always)
    static func double(_ b: UnsafeRawBufferPointer) -> Double { Double(bitPattern: UInt64(bigEndian: b.loadUnaligned(as: UInt64.self))) }
    @inline(__always)
    static func bool(_ b: UnsafeRawBufferPointer) -> Bool { b[0] != 0 }
    @inline(__always)
    static func text(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }
    @inline(__always)
    static func bytes(_ b: UnsafeRawBufferPointer) -> Data { Data(b) }
    /// timestamptz: microseconds since 2000-01-01 UTC.
    @inline(__always)
    static func date(_ b: UnsafeRawBufferPointer) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(int64(b)) / 1_000_000 - 31_622_400)
    }
}

/// Calls `body` with the 16 bytes of `uuid` (no allocation).
@inline(__always)
func withUUIDBytes<R>(_ uuid: UUID, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try withUnsafeBytes(of: uuid.uuid, body)
}
