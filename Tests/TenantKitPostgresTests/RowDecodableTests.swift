import Foundation
import TenantKitPostgres
import TenantKitTesting
import Testing

/// Rows read by position through `init(row:)`, without a keyed container.
@Suite struct RowDecodableTests {
    private struct Member: PostgresRowDecodable, Equatable {
        let id: Int32, email: String, nickname: String?
        init(id: Int32, email: String, nickname: String?) { (self.id, self.email, self.nickname) = (id, email, nickname) }
        init(row: PostgresRow) throws {
            id = try row.decode(at: 0)
            email = try row.decode(at: 1)
            nickname = try row.decode(at: 2)
        }
    }

    /// Both kinds: rows must take `init(row:)`, which the marker shows.
    private struct Both: PostgresRowDecodable, Decodable {
        let source: String
        init(row: PostgresRow) throws { source = "init(row:) saw \(try row.decode(Int32.self, at: 0))" }
        init(from decoder: any Decoder) throws { source = "Decodable" }
    }

    private let members: PostgresQuery = """
        SELECT * FROM (VALUES (1, 'ada@acme.test', 'ada'), (2, 'bob@acme.test', NULL)) AS m(id, email, nickname) ORDER BY id
        """

    @Test func fetchVerbsDecodeThroughInitRow() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let all = try await pool.fetchAll(members, as: Member.self)
            #expect(all == [Member(id: 1, email: "ada@acme.test", nickname: "ada"), Member(id: 2, email: "bob@acme.test", nickname: nil)])
            let one = try await pool.fetchOne(members, as: Member.self)
            #expect(one.id == 1)
            let none = try await pool.fetchOptional("SELECT 1, 'x', NULL::text WHERE false", as: Member.self)
            #expect(none == nil)
            let both = try await pool.fetchAll("SELECT 7", as: Both.self)
            #expect(both.map(\.source) == ["init(row:) saw 7"])
            await pool.close()
        }
    }

    @Test func aWrongColumnTypeNamesTheColumnAndTheTypes() async throws {
        try await TestDatabase.with { db in
            let pool = db.makePool(maxConnections: 1)
            let error = await captureError(PostgresDecodingError.self) {
                try await pool.fetchAll("SELECT 1, 2, NULL::text", as: Member.self)
            }
            #expect(error?.column == "?column?")
            #expect(error?.index == 1)
            #expect(error?.swiftType == "String")
            await pool.close()
        }
    }
}
