import Foundation
import TenantKitPostgres

/// A value an attacker must never see, and every form it can take in a result: text in any case,
/// a UUID's 16 bytes, a hash's bytes or hex, an integer's decimal text or 8 binary bytes.
public struct InjectionSecret: Sendable, Hashable, CustomStringConvertible {
    /// The value, by kind (each kind has its own searchable forms).
    public enum Value: Sendable, Hashable {
        case text(String)
        case uuid(UUID)
        case bytes([UInt8])
        case integer(Int64)
    }

    /// Where the value comes from, e.g. `public.users.email of org B`.
    public let label: String
    public let value: Value

    /// A secret, e.g. `InjectionSecret("context signing key", .bytes(key))` for ``InjectionSuite/extraSecrets``.
    public init(_ label: String, _ value: Value) {
        self.label = label
        self.value = value
    }

    /// The label and the value (shortened), for reports: test fixtures, never production data.
    public var description: String { "\(label) (\(shown))" }

    var shown: String {
        switch value {
        case .text(let text): text.count > 48 ? "'\(text.prefix(45))...'" : "'\(text)'"
        case .uuid(let id): id.uuidString.lowercased()
        case .bytes(let bytes): "\\x" + String(Self.hex(bytes).prefix(16)) + "..."
        case .integer(let n): "\(n)"
        }
    }

    /// One searchable form: bytes, compared case-insensitively (ASCII) when `foldsCase`.
    struct Form: Sendable, Hashable {
        let bytes: [UInt8]
        let foldsCase: Bool
    }

    var forms: [Form] {
        switch value {
        case .text(let text):
            return [Form(bytes: Array(text.lowercased().utf8), foldsCase: true)]
        case .uuid(let id):
            let text = id.uuidString.lowercased()
            return [Form(bytes: Array(text.utf8), foldsCase: true),
                    Form(bytes: Array(text.replacingOccurrences(of: "-", with: "").utf8), foldsCase: true),
                    Form(bytes: withUnsafeBytes(of: id.uuid) { Array($0) }, foldsCase: false)]
        case .bytes(let bytes):
            return [Form(bytes: Array(Self.hex(bytes).utf8), foldsCase: true), Form(bytes: bytes, foldsCase: false)]
        case .integer(let n):
            return [Form(bytes: Array("\(n)".utf8), foldsCase: false),
                    Form(bytes: withUnsafeBytes(of: n.bigEndian) { Array($0) }, foldsCase: false)]
        }
    }

    /// The forms an attacker could have typed: a secret named in the attack's own SQL is an echo, not a leak.
    var typedForms: [String] {
        forms.filter(\.foldsCase).map { String(decoding: $0.bytes, as: UTF8.self) } + {
            if case .integer(let n) = value { return ["\(n)"] }
            return []
        }()
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // MARK: Finding them

    /// Text shorter than this is too common to be anyone's secret ("admin", "model").
    static let minimumTextLength = 6
    /// Integers below this (sequence numbers, small costs) are too common to be anyone's secret.
    static let minimumInteger: Int64 = 1_000

    /// Every value in `org`'s rows (every table with an organization column) and in its own users'
    /// rows that no row outside it holds: ids, names, emails, slugs, key prefixes and hashes, token
    /// hashes, amounts and balances, JSON strings.
    static func valuesOnlyHeldBy(_ org: UUID, besides other: UUID, on admin: PostgresConnection) async throws -> [InjectionSecret] {
        struct Cell: Decodable { let column: String; let value: String; let inOrg: Bool }
        let catalog = try await OrgTables.discover(on: admin)
        var inOrg: [String: (label: String, type: String, rank: Int)] = [:]
        var outside = Set<String>()

        func collect(_ cells: [Cell], table: OrgTables.Table) {
            let types = Dictionary(table.columns.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
            for cell in cells {
                guard cell.inOrg else {
                    outside.insert(cell.value)
                    continue
                }
                // A value is named after the row it identifies (`organizations.id`), not a reference to it.
                let rank = cell.column == table.orgColumn && table.orgColumn != "org_id" ? 0 : cell.column == "id" ? 1 : 2
                let label = "\(table.qualifiedName).\(cell.column) of org B"
                if let known = inOrg[cell.value], (known.rank, known.label) <= (rank, label) { continue }
                inOrg[cell.value] = (label, types[cell.column] ?? "text", rank)
            }
        }

        for table in catalog.tables {
            let relation = PostgresIdentifier(table.schema).quoted + "." + PostgresIdentifier(table.name).quoted
            let inOrgCondition: String
            if let orgColumn = table.orgColumn {
                inOrgCondition = "t.\(PostgresIdentifier(orgColumn).quoted) IS NOT DISTINCT FROM $1"
            } else if table.qualifiedName == "public.users" {
                // B's own people: members of B who are not members of A.
                inOrgCondition = """
                    t.id IN (SELECT user_id FROM public.memberships WHERE org_id = $1
                             EXCEPT SELECT user_id FROM public.memberships WHERE org_id = $2)
                    """
            } else {
                inOrgCondition = "false"
            }
            // Every column as text, and every string inside a JSON column.
            let sql = """
                SELECT DISTINCT e.key AS column, e.value #>> '{}' AS value, (\(inOrgCondition)) AS in_org
                FROM \(relation) t CROSS JOIN LATERAL jsonb_each(to_jsonb(t)) e
                WHERE jsonb_typeof(e.value) NOT IN ('null', 'object', 'array')
                UNION
                SELECT DISTINCT e.key, leaf #>> '{}', (\(inOrgCondition))
                FROM \(relation) t CROSS JOIN LATERAL jsonb_each(to_jsonb(t)) e
                CROSS JOIN LATERAL jsonb_path_query(e.value, 'strict $.**') leaf
                WHERE jsonb_typeof(e.value) IN ('object', 'array') AND jsonb_typeof(leaf) = 'string'
                """
            let cells = try await admin.fetchAll(PostgresQuery(unsafeSQL: sql, binds: try binds(org, other)), as: Cell.self)
            collect(cells, table: table)
        }
        var secrets: [InjectionSecret] = []
        for (text, origin) in inOrg where !outside.contains(text) {
            if let secret = secret(text, type: origin.type, label: origin.label) { secrets.append(secret) }
        }
        return secrets.sorted { ($0.label, $0.shown) < ($1.label, $1.shown) }
    }

    private static func secret(_ text: String, type: String, label: String) -> InjectionSecret? {
        switch type {
        case "uuid":
            return UUID(uuidString: text).map { InjectionSecret(label, .uuid($0)) }
        case "bytea":
            guard text.hasPrefix("\\x"), let bytes = bytes(hex: String(text.dropFirst(2))), bytes.count >= 8 else { return nil }
            return InjectionSecret(label, .bytes(bytes))
        case "bigint", "integer", "numeric":
            guard let n = Int64(text), n >= minimumInteger else { return nil }
            return InjectionSecret(label, .integer(n))
        case "text", "character varying", "jsonb", "json", "citext":
            guard text.count >= minimumTextLength, Int64(text) == nil else { return nil }
            return InjectionSecret(label, .text(text))
        default:
            return nil  // timestamps, booleans: shared by everyone
        }
    }

    private static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    private static func binds(_ values: UUID...) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values { try binds.append(value) }
        return binds
    }
}
