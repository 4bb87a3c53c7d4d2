import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

/// Every codec, both directions, through a real server: the value is sent as a binary bind, cast on
/// the server, and read back in binary.
@Suite struct CodecTests {
    /// Sends `value` as `$1::type`, and checks the server's text form and the decoded value.
    func roundTrip<T: PostgresCodable & Equatable>(
        _ value: T, as type: String, text expected: String? = nil, on connection: PostgresConnection,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var binds = PostgresBindings()
        try binds.append(value)
        // The type names are fixed test constants; the value is the bind.
        let sql = PostgresQuery(unsafeSQL: "SELECT $1::\(type) AS value, $1::\(type)::text AS text", binds: binds)
        let rows = try await connection.query(sql)
        let back = try rows[0].decode(T.self, column: "value")
        #expect(back == value, sourceLocation: sourceLocation)
        if let expected {
            #expect(try rows[0].decode(String?.self, column: "text") == expected, sourceLocation: sourceLocation)
        }
    }

    @Test func integersAndBooleans() async throws {
        try await withConnection { c in
            try await roundTrip(true, as: "bool", text: "true", on: c)
            try await roundTrip(false, as: "bool", text: "false", on: c)
            for value in [Int16.min, -1, 0, Int16.max] { try await roundTrip(value, as: "int2", text: "\(value)", on: c) }
            for value in [Int32.min, -1, 0, Int32.max] { try await roundTrip(value, as: "int4", text: "\(value)", on: c) }
            for value in [Int64.min, -1, 0, Int64.max] { try await roundTrip(value, as: "int8", text: "\(value)", on: c) }
            try await roundTrip(Int.max, as: "int8", text: "\(Int.max)", on: c)
        }
    }

    @Test func integerColumnsWidenOnDecode() async throws {
        try await withConnection { c in
            let row = try await c.query("SELECT 7::int2 AS small, 8::int4 AS medium")[0]
            #expect(try row.decode(Int.self, column: "small") == 7)
            #expect(try row.decode(Int64.self, column: "medium") == 8)
        }
    }

    @Test func floatingPoint() async throws {
        try await withConnection { c in
            for value in [0.0, -0.5, 1e300, -1e-300, .infinity, -.infinity, Double.pi] {
                try await roundTrip(value, as: "float8", on: c)
            }
            let nan = try await c.fetchOne("SELECT 'NaN'::float8", as: Double.self)
            #expect(nan.isNaN)
        }
    }

    @Test func stringsKeepEveryCharacter() async throws {
        try await withConnection { c in
            for value in ["", "plain", "quote ' and \" and \\", "émoji 🚀 ünïcode", String(repeating: "x", count: 100_000)] {
                try await roundTrip(value, as: "text", text: value, on: c)
            }
            try await roundTrip("abc", as: "varchar", text: "abc", on: c)
        }
    }

    @Test func stringWithNulByteIsRejectedBeforeSending() async throws {
        try await withConnection { c in
            let before = c.roundTrips
            let error = await captureError(PostgresEncodingError.self) {
                try await c.query("SELECT \("a\u{0}b")::text")
            }
            #expect(error != nil)
            #expect(c.roundTrips == before)
        }
    }

    @Test func uuidsDatesAndBytes() async throws {
        try await withConnection { c in
            let id = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!
            try await roundTrip(id, as: "uuid", text: "6f9619ff-8b86-d011-b42d-00c04fc964ff", on: c)
            try await roundTrip(Date(timeIntervalSince1970: 0), as: "timestamptz", text: "1970-01-01 00:00:00+00", on: c)
            try await roundTrip(Date(timeIntervalSince1970: 946_684_800.5), as: "timestamptz",
                                text: "2000-01-01 00:00:00.5+00", on: c)
            try await roundTrip(Date(timeIntervalSince1970: -1_000_000_000), as: "timestamptz", on: c)
            try await roundTrip(Data(), as: "bytea", text: "\\x", on: c)
            try await roundTrip(Data([0, 1, 0xfe, 0xff]), as: "bytea", text: "\\x0001feff", on: c)
            let infinite = try await c.query("SELECT 'infinity'::timestamptz, '-infinity'::timestamptz")[0]
            #expect(try infinite.decode(Date.self, at: 0) == .distantFuture)
            #expect(try infinite.decode(Date.self, at: 1) == .distantPast)
        }
    }

    @Test func timestampsAreMicrosecondExact() async throws {
        try await withConnection { c in
            let text = try await c.fetchOne(
                "SELECT \(Date(timeIntervalSince1970: 1_700_000_000.123456))::timestamptz::text", as: String.self)
            #expect(text == "2023-11-14 22:13:20.123456+00")
        }
    }

    @Test func decimals() async throws {
        try await withConnection { c in
            let values = ["0", "1", "-1", "0.0001", "123456789.987654321", "-99999999999999999999.5", "1e30", "1e-20"]
            for text in values {
                let value = Decimal(string: text)!
                try await roundTrip(value, as: "numeric", on: c)
            }
            let fromServer = try await c.fetchOne("SELECT 12345.6789::numeric(12,4)", as: Decimal.self)
            #expect(fromServer == Decimal(string: "12345.6789"))
            let scaled = try await c.fetchOne("SELECT \(Decimal(string: "10.50")!)::numeric::text", as: String.self)
            #expect(scaled == "10.5")
        }
    }

    struct Metadata: Codable, Equatable, Sendable {
        var tags: [String]
        var weight: Double?
    }

    @Test func jsonAndJsonbFromCodable() async throws {
        try await withConnection { c in
            let value = Metadata(tags: ["a", "b\"'"], weight: 1.5)
            try await roundTrip(JSONB(value), as: "jsonb", on: c)
            try await roundTrip(JSON(value), as: "json", on: c)
            let key = try await c.fetchOne("SELECT \(JSONB(value))::jsonb -> 'tags' ->> 1", as: String.self)
            #expect(key == "b\"'")
            let fromText = try await c.query(#"SELECT '{"tags":[],"weight":null}'::jsonb"#)[0].decode(JSONB<Metadata>.self, at: 0)
            #expect(fromText.value == Metadata(tags: [], weight: nil))
        }
    }

    @Test func arraysIncludingNullsAndEmpty() async throws {
        try await withConnection { c in
            try await roundTrip([1, 2, 3] as [Int64], as: "int8[]", text: "{1,2,3}", on: c)
            try await roundTrip([Int32](), as: "int4[]", text: "{}", on: c)
            try await roundTrip(["a", "b,c", "\"q\""], as: "text[]", text: #"{a,"b,c","\"q\""}"#, on: c)
            try await roundTrip([UUID(), UUID()], as: "uuid[]", on: c)
            try await roundTrip([true, false], as: "bool[]", text: "{t,f}", on: c)
            try await roundTrip([1, nil, 3] as [Int64?], as: "int8[]", text: "{1,NULL,3}", on: c)
            try await roundTrip([Decimal(string: "1.5")!], as: "numeric[]", text: "{1.5}", on: c)
            let ids = [Int64(2), 3]
            let hits = try await c.fetchAll("SELECT x FROM generate_series(1, 4) x WHERE x = ANY(\(ids))", as: Int.self)
            #expect(hits == [2, 3])
        }
    }

    @Test func optionalsAreNull() async throws {
        try await withConnection { c in
            let none: String? = nil
            let row = try await c.query("SELECT \(none)::text AS a, \(Optional("x"))::text AS b, \(none)::text IS NULL AS isnull")[0]
            #expect(try row.decode(String?.self, column: "a") == nil)
            #expect(try row.decode(String?.self, column: "b") == "x")
            #expect(try row.decode(Bool.self, column: "isnull"))
        }
    }

    struct Item: Decodable, Equatable {
        var id: Int
        var displayName: String
        var note: String?
        var tags: [String]
    }

    @Test func rowsDecodeIntoStructsByColumnName() async throws {
        try await withConnection { c in
            let items = try await c.fetchAll(
                "SELECT ARRAY['x'] AS tags, NULL::text AS note, 'A' AS display_name, 1 AS id UNION ALL SELECT '{}', 'n', 'B', 2 ORDER BY id",
                as: Item.self)
            #expect(items == [Item(id: 1, displayName: "A", note: nil, tags: ["x"]), Item(id: 2, displayName: "B", note: "n", tags: [])])
        }
    }

    @Test func rowsDecodeByIndexAndAsTuples() async throws {
        try await withConnection { c in
            let row = try await c.query("SELECT 1::int8, 'two'::text, NULL::uuid")[0]
            let (one, two, three) = try row.decode(Int64.self, String.self, UUID?.self)
            #expect(one == 1 && two == "two" && three == nil)
            #expect(try row.decode(String.self, at: 1) == "two")
        }
    }

    @Test func decodeErrorNamesColumnSwiftTypeAndPostgresType() async throws {
        try await withConnection { c in
            let rows = try await c.query("SELECT 'x'::text AS label, NULL::int4 AS amount")
            let wrongType = await captureError(PostgresDecodingError.self) { try rows[0].decode(Int.self, column: "label") }
            #expect(wrongType?.column == "label")
            #expect(wrongType?.swiftType == "Int")
            #expect(wrongType?.postgresType == .text)
            #expect(wrongType.map(String.init(describing:))?.contains("label") == true)
            #expect(wrongType.map(String.init(describing:))?.contains("text") == true)
            let null = await captureError(PostgresDecodingError.self) { try rows[0].decode(Int32.self, column: "amount") }
            #expect(null?.column == "amount")
            #expect(null?.index == 1)
            #expect(null?.postgresType == .int4)
            struct Wrong: Decodable { var label: Int }
            let inStruct = await captureError(PostgresDecodingError.self) { try rows.decode(as: Wrong.self) }
            #expect(inStruct?.column == "label")
            let missing = await captureError(PostgresDecodingError.self) { try rows[0].decode(String.self, column: "nope") }
            #expect(missing?.column == "nope")
        }
    }
}
