import Foundation
import TenantKitPostgres
@testable import TenantSQL
import TenantKitTesting
import Testing

/// Random statement shapes from a seeded generator: joins (self-joins included), left joins,
/// nested IN / EXISTS subqueries, combined filters. For each, every tenant-table alias found by
/// walking the builder's tree carries its predicate in the SQL; a sample also runs on the database.
@Suite struct ScopingGeneratorTests {
    @Test(arguments: [1, 2, 3, 4])
    func everyAliasCarriesItsPredicate(seed: UInt64) throws {
        var generator = ShapeGenerator(seed: seed)
        for _ in 0..<250 {
            let shape = generator.statement()
            let (sql, values) = try SQLRenderer.inspect(shape.statement, mode: .scoped(orgA))
            let walked = allTables(shape.statement)
            // The tree walk sees exactly the tables the generator put in.
            #expect(walked.map(\.alias).sorted() == shape.aliases.sorted(), "\(sql)")

            let orgIndexes = values.indices.filter { (values[$0] as? UUID) == orgA }
            let usesOrg = walked.contains { $0.scoping.needsScope }
            #expect(orgIndexes.count == (usesOrg ? 1 : 0), "org id bound exactly once: \(sql)")
            let placeholder = "$\((orgIndexes.first ?? -1) + 1)"
            for table in walked {
                let column = "\"\(table.alias)\".\"\(table.scoping.orgColumn ?? "-")\""
                let predicate = switch table.scoping.kind {
                // A mixed catalog's predicate sits in its union's private arm, under the same alias.
                case .tenant, .mixedCatalog: "\(column) = \(placeholder)"
                case .global: ""
                }
                if table.scoping.kind == .global {
                    #expect(!sql.contains("\(column)"), "\(sql)")
                } else {
                    #expect(occurrences(of: predicate, in: sql) == 1, "\(table) lacks its predicate: \(sql)")
                }
            }
            // Same shape for another org: same text.
            #expect(try SQLRenderer.inspect(shape.statement, mode: .scoped(orgB)).sql == sql)
        }
    }

    /// Runs generated statements as a superuser (RLS bypassed: only the builder's predicates
    /// guard) and as the app role under RLS; both must return the same rows, none of the other org's.
    @Test func generatedStatementsReturnOnlyTheScopesRows() async throws {
        try await withSeededDatabase { db, pool in
            let superuser = try await db.connect()
            var generator = ShapeGenerator(seed: 42)
            var nonEmpty = 0
            for _ in 0..<40 {
                let shape = generator.statement()
                for (org, other) in [(orgA, orgB), (orgB, orgA)] {
                    let scope = OrgScope(orgID: org, actor: .user(userA), context: PlainSettingContext(), on: pool)
                    let query = try scope.render(shape.statement)
                    let unguarded = try rowsAsText(try await superuser.query(query))
                    let guarded = try rowsAsText(try await scope.query(shape.statement))
                    #expect(unguarded == guarded, "\(query.sql)")
                    #expect(!unguarded.contains { $0.contains(other.uuidString.lowercased()) }, "\(query.sql)")
                    if !unguarded.isEmpty { nonEmpty += 1 }
                }
            }
            #expect(nonEmpty > 20, "the sample should mostly return rows to compare")
            await superuser.close()
        }
    }
}

/// Every table reference, walking subqueries at every depth.
func allTables(_ statement: Select) -> [TableReference] {
    let own = [statement.source] + statement.joins.map(\.table)
    return own + statement.subqueries.flatMap(allTables)
}

func occurrences(of needle: String, in haystack: String) -> Int {
    haystack.components(separatedBy: needle).count - 1
}

/// Each row as text (uuid columns and text columns), sorted.
func rowsAsText(_ rows: PostgresRows) throws -> [String] {
    try rows.map { row in
        try rows.columns.indices.map { i -> String in
            if rows.columns[i].type == .uuid { return try row.decode(UUID?.self, at: i)?.uuidString.lowercased() ?? "NULL" }
            return try row.decode(String?.self, at: i) ?? "NULL"
        }.joined(separator: "|")
    }.sorted()
}

/// SplitMix64: a tiny seeded generator, so a failing shape can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct ShapeGenerator {
    enum Kind: CaseIterable { case projects, tasks, items, accounts, orgs }

    /// One use of a table with what the generator needs from it: a text column and the org column.
    struct Use {
        let reference: TableReference
        let text: Column<String>
        let org: SelectItem?
    }

    struct Shape {
        let statement: Select
        let aliases: [String]
    }

    var rng: SplitMix64
    var counter = 0
    var aliases: [String] = []
    let words = ["alpha", "beta", "gamma", "write", "test", "ship", "public-one", "private-a", "Org A", "x"]

    init(seed: UInt64) { rng = SplitMix64(state: seed) }

    mutating func statement() -> Shape {
        counter = 0
        aliases = []
        let select = self.select(depth: 0, outer: [])
        return Shape(statement: select, aliases: aliases)
    }

    private mutating func use(_ kind: Kind) -> Use {
        counter += 1
        let alias = "a\(counter)"
        aliases.append(alias)
        switch kind {
        case .projects:
            let t = Projects.as(alias)
            return Use(reference: t.reference, text: t.name, org: t.orgID.as("org_\(alias)"))
        case .tasks:
            let t = Tasks.as(alias)
            return Use(reference: t.reference, text: t.title, org: t.orgID.as("org_\(alias)"))
        case .items:
            let t = Items.as(alias)
            return Use(reference: t.reference, text: t.slug, org: t.orgID.as("org_\(alias)"))
        case .accounts:
            let t = Accounts.as(alias)
            return Use(reference: t.reference, text: t.email, org: nil)
        case .orgs:
            let t = Orgs.as(alias)
            return Use(reference: t.reference, text: t.name, org: t.id.as("org_\(alias)"))
        }
    }

    private mutating func kind() -> Kind { Kind.allCases.randomElement(using: &rng)! }
    private mutating func word() -> String { words.randomElement(using: &rng)! }
    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    private mutating func select(depth: Int, outer: [Use]) -> Select {
        let from = use(kind())
        var select = Select(source: from.reference)
        var visible = [from]
        for _ in 0..<Int.random(in: 0...(depth == 0 ? 2 : 1), using: &rng) {
            // Joining the same kind again makes a self-join under another alias.
            let joined = use(chance(30) ? kindOf(from) : kind())
            let other = visible.randomElement(using: &rng)!
            let condition: SQLExpression<Bool> = switch Int.random(in: 0..<3, using: &rng) {
            case 0: joined.text == other.text
            case 1: joined.text != word()
            default: joined.text == other.text || joined.text.in([word(), word()])
            }
            select = chance(50)
                ? select.leftJoin(AnyTable(joined.reference), on: condition)
                : select.join(AnyTable(joined.reference), on: condition)
            visible.append(joined)
        }
        if chance(75) {
            select = select.where(condition(depth: depth, visible: visible + outer, budget: 3))
        }
        if depth == 0 {
            select = select.columns(visible.flatMap { [$0.org, $0.text.selectItem].compactMap { $0 } })
        } else {
            select = select.columns(from.text)
        }
        return select
    }

    private func kindOf(_ use: Use) -> Kind {
        switch use.reference.name {
        case "projects": .projects
        case "tasks": .tasks
        case "items": .items
        case "accounts": .accounts
        default: .orgs
        }
    }

    private mutating func condition(depth: Int, visible: [Use], budget: Int) -> SQLExpression<Bool> {
        let target = visible.randomElement(using: &rng)!
        let choice = Int.random(in: 0..<(budget > 1 ? 9 : 5), using: &rng)
        switch choice {
        case 0: return target.text == word()
        case 1: return target.text != word()
        case 2: return target.text.in([word(), word()])
        case 3: return target.text.like("%a%")
        case 4 where depth < 2:
            return target.text.in(select(depth: depth + 1, outer: visible))
        case 5 where depth < 2:
            let sub = select(depth: depth + 1, outer: visible)
            return chance(50) ? exists(sub) : notExists(sub)
        case 6: return condition(depth: depth, visible: visible, budget: budget - 1) && condition(depth: depth, visible: visible, budget: budget - 1)
        case 7: return condition(depth: depth, visible: visible, budget: budget - 1) || condition(depth: depth, visible: visible, budget: budget - 1)
        case 8: return !condition(depth: depth, visible: visible, budget: budget - 1)
        default: return target.text == word()
        }
    }
}

/// A table use whose type was erased by the generator; joins only need its reference.
struct AnyTable: Table {
    static let tableName = "any"
    static let scoping = TableScoping.global
    let reference: TableReference
    init(reference: TableReference) { self.reference = reference }
    init(_ reference: TableReference) { self.reference = reference }
}
