import Foundation
import TenantKitPostgres
@testable import TenantSQL
import TenantKitTesting
import Testing

/// Exact SQL and binds for every statement kind, rendered in a scope for org A.
@Suite struct RenderingTests {
    let o = orgA.uuidString.lowercased()

    @Test func selectWithFilterOrderLimitOffset() throws {
        let p = Projects.table
        let statement = Select.from(p).columns(p.id, p.name)
            .where(p.score > 10 && p.name != "x").orderBy(p.name.asc).limit(5).offset(10)
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "projects"."id", "projects"."name" FROM "projects" WHERE "projects"."org_id" = $1 AND "projects"."score" > $2 AND "projects"."name" <> $3 ORDER BY "projects"."name" LIMIT $4 OFFSET $5"#)
        #expect(binds == [o, "10", "x", "5", "10"])
    }

    @Test func builderSQLIsStaticText() throws {
        let p = Projects.table
        let query = try SQLRenderer.render(Select.from(p).columns(p.id).where(p.name == "x'; SET role = admin --"), mode: .scoped(orgA))
        #expect(!query.isDynamic)  // so running it never makes the pool reset the connection
        #expect(query.isCached)
    }

    @Test func orIsParenthesizedNotWrapsAndNilIsNull() throws {
        let p = Projects.table
        let statement = Select.from(p).columns(p.id)
            .where((p.name == "a" || p.name == "b") && !(p.score > 1) && p.ownerID == nil)
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "projects"."id" FROM "projects" WHERE "projects"."org_id" = $1 AND ("projects"."name" = $2 OR "projects"."name" = $3) AND NOT ("projects"."score" > $4) AND "projects"."owner_id" IS NULL"#)
        #expect(binds == [o, "a", "b", "1"])
    }

    @Test func topLevelOrStaysInsideTheScopePredicate() throws {
        let p = Projects.table
        let (sql, _) = try rendered(Select.from(p).where(p.name == "a" || p.score > 3))
        #expect(sql == #"SELECT "projects".* FROM "projects" WHERE "projects"."org_id" = $1 AND ("projects"."name" = $2 OR "projects"."score" > $3)"#)
    }

    @Test func storedFiltersAreValues() throws {
        let p = Projects.table
        let big = p.score >= 100
        let named = p.name.like("a%")
        let (sql, binds) = try rendered(Select.from(p).columns(p.id).where(big).where(named || !big))
        #expect(sql == #"SELECT "projects"."id" FROM "projects" WHERE "projects"."org_id" = $1 AND "projects"."score" >= $2 AND ("projects"."name" LIKE $3 OR NOT ("projects"."score" >= $4))"#)
        #expect(binds == [o, "100", "a%", "100"])
    }

    @Test func selfJoinScopesEachAlias() throws {
        let child = Projects.as("child"), parent = Projects.as("parent")
        let statement = Select.from(child).columns(child.name, parent.name.as("parent_name"))
            .leftJoin(parent, on: parent.id == child.parentID)
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "child"."name", "parent"."name" AS "parent_name" FROM "projects" AS "child" LEFT JOIN "projects" AS "parent" ON "parent"."org_id" = $1 AND "parent"."id" = "child"."parent_id" WHERE "child"."org_id" = $1"#)
        #expect(binds == [o])
    }

    @Test func joinAndAnyOverAnArray() throws {
        let t = Tasks.as("t"), p = Projects.as("p")
        let statement = Select.from(t).columns(t.title, p.name)
            .join(p, on: p.id == t.projectID).where(t.points.in([1, 2, 3]))
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "t"."title", "p"."name" FROM "tasks" AS "t" JOIN "projects" AS "p" ON "p"."org_id" = $1 AND "p"."id" = "t"."project_id" WHERE "t"."org_id" = $1 AND "t"."points" = ANY($2)"#)
        #expect(binds == [o, "[1,2,3]"])
    }

    @Test func mixedCatalogReadsSeePublicRows() throws {
        let i = Items.as("i"), t = Tasks.table
        let statement = Select.from(t).columns(t.title, i.name).leftJoin(i, on: i.slug == t.title).where(i.slug.notIn(["x"]))
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "tasks"."title", "i"."name" FROM "tasks" LEFT JOIN (SELECT "name", "slug" FROM "items" AS "i" WHERE "i"."org_id" = $1 UNION ALL SELECT "name", "slug" FROM "public_items") AS "i" ON "i"."slug" = "tasks"."title" WHERE "tasks"."org_id" = $1 AND "i"."slug" <> ALL($2)"#)
        #expect(binds == [o, "[x]"])

        // The organization column reads NULL in the public arm; a correlated subquery's columns count.
        let owned = Select.from(i).columns(i.id, i.orgID).where(exists(Select.from(t).columns(t.id).where(t.title == i.slug)))
        #expect(try rendered(owned).sql == #"SELECT "i"."id", "i"."org_id" FROM (SELECT "id", "org_id", "slug" FROM "items" AS "i" WHERE "i"."org_id" = $1 UNION ALL SELECT "id", NULL::uuid, "slug" FROM "public_items") AS "i" WHERE EXISTS (SELECT "tasks"."id" FROM "tasks" WHERE "tasks"."org_id" = $1 AND "tasks"."title" = "i"."slug")"#)
        // Outside a scope: every private row and every public one.
        #expect(try SQLRenderer.inspect(Select.from(i).columns(i.id), mode: .unscoped).sql
            == #"SELECT "i"."id" FROM (SELECT "id" FROM "items" AS "i" UNION ALL SELECT "id" FROM "public_items") AS "i""#)
    }

    @Test func aPageOfAMixedCatalogUnitesTheOwnAndThePublicRowsEachOrderedAndLimited() throws {
        let i = Items.table
        let statement = Select.from(i).columns(i.id, i.orgID, i.slug, i.name).where(i.name != "draft")
            .keysetPage(by: i.slug, i.id, after: ("m", orgB), limit: 20)
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"(SELECT "items"."id", "items"."org_id", "items"."slug", "items"."name" FROM "items" WHERE "items"."org_id" = $1 AND "items"."name" <> $2 AND ("items"."slug", "items"."id") > ($3, $4) ORDER BY "items"."slug", "items"."id" LIMIT $5) UNION ALL (SELECT "items"."id", NULL::uuid, "items"."slug", "items"."name" FROM "public_items" AS "items" WHERE "items"."name" <> $6 AND ("items"."slug", "items"."id") > ($7, $8) ORDER BY "items"."slug", "items"."id" LIMIT $9) ORDER BY "slug", "id" LIMIT $10"#)
        let b = orgB.uuidString.lowercased()
        #expect(binds == [o, "draft", "m", b, "20", "draft", "m", b, "20", "20"])

        // Descending, and a labelled column: the merge orders by the output name.
        let labelled = Select.from(i).columns(i.id, i.slug.as("key")).orderBy(i.slug.desc).limit(5)
        #expect(try rendered(labelled).sql == #"(SELECT "items"."id", "items"."slug" AS "key" FROM "items" WHERE "items"."org_id" = $1 ORDER BY "items"."slug" DESC LIMIT $2) UNION ALL (SELECT "items"."id", "items"."slug" AS "key" FROM "public_items" AS "items" ORDER BY "items"."slug" DESC LIMIT $3) ORDER BY "key" DESC LIMIT $4"#)
    }

    @Test func otherReadsOfAMixedCatalogReadTheUnionAndStarIsRefused() throws {
        let i = Items.table, t = Tasks.table
        // Not a page (no LIMIT, an order on an unselected column, an OFFSET, a join): the union as FROM item.
        let union = #"(SELECT "id", "slug" FROM "items" WHERE "items"."org_id" = $1 UNION ALL SELECT "id", "slug" FROM "public_items") AS "items""#
        #expect(try rendered(Select.from(i).columns(i.id).orderBy(i.slug.asc)).sql == #"SELECT "items"."id" FROM "# + union + #" ORDER BY "items"."slug""#)
        #expect(try rendered(Select.from(i).columns(i.id).orderBy(i.slug.asc).limit(5)).sql == #"SELECT "items"."id" FROM "# + union + #" ORDER BY "items"."slug" LIMIT $2"#)
        #expect(try rendered(Select.from(i).columns(i.slug, i.id).orderBy(i.slug.asc).limit(5).offset(5)).sql
            == #"SELECT "items"."slug", "items"."id" FROM "# + union + #" ORDER BY "items"."slug" LIMIT $2 OFFSET $3"#)
        #expect(try rendered(Select.from(i).columns(i.id).join(t, on: t.title == i.slug).orderBy(i.slug.asc).limit(5)).sql
            == #"SELECT "items"."id" FROM "# + union + #" JOIN "tasks" ON "tasks"."org_id" = $1 AND "tasks"."title" = "items"."slug" ORDER BY "items"."slug" LIMIT $2"#)
        // A table that is not a mixed catalog is read as itself.
        let tasks = Select.from(t).columns(t.id).orderBy(t.title.asc).limit(5)
        #expect(try rendered(tasks).sql == #"SELECT "tasks"."id" FROM "tasks" WHERE "tasks"."org_id" = $1 ORDER BY "tasks"."title" LIMIT $2"#)

        let message = "a read of items must name its columns: its public rows are in public_items, which has no org_id"
        for statement in [Select.from(i), Select.from(i).columns(i.allColumns).orderBy(i.slug.asc).limit(5)] {
            #expect(throws: TenantSQLError(.unsupportedShape, message)) { try rendered(statement) }
        }
    }

    @Test func nestedSubqueriesAreEachScoped() throws {
        let p = Projects.as("p"), t = Tasks.as("t"), t2 = Tasks.as("t2")
        let inner = Select.from(t2).columns(t2.id).where(t2.projectID == t.projectID && t2.points > 2)
        let middle = Select.from(t).columns(t.projectID).where(t.done == false && exists(inner))
        let statement = Select.from(p).columns(p.name).where(p.id.in(middle))
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "p"."name" FROM "projects" AS "p" WHERE "p"."org_id" = $1 AND "p"."id" IN (SELECT "t"."project_id" FROM "tasks" AS "t" WHERE "t"."org_id" = $1 AND "t"."done" = $2 AND EXISTS (SELECT "t2"."id" FROM "tasks" AS "t2" WHERE "t2"."org_id" = $1 AND "t2"."project_id" = "t"."project_id" AND "t2"."points" > $3))"#)
        #expect(binds == [o, "false", "2"])
        #expect(statement.referencedTables.map(\.alias) == ["p", "t", "t2"])
    }

    @Test func subqueryUnderAGlobalTableIsScoped() throws {
        let a = Accounts.table, p = Projects.table
        let statement = Select.from(a).columns(a.email).where(notExists(Select.from(p).columns(p.id).where(p.ownerID == a.id)))
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "accounts"."email" FROM "accounts" WHERE NOT EXISTS (SELECT "projects"."id" FROM "projects" WHERE "projects"."org_id" = $1 AND "projects"."owner_id" = "accounts"."id")"#)
        #expect(binds == [o])
        #expect(throws: TenantSQLError.self) { try statement.renderGlobal() }
    }

    @Test func groupByAggregatesHaving() throws {
        let t = Tasks.table
        let statement = Select.from(t)
            .columns(t.projectID, count().as("n"), sum(t.points).as("total"), max(t.title).as("last"))
            .where(t.done == false).groupBy(t.projectID).having(count() > 1).orderBy(t.projectID)
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"SELECT "tasks"."project_id", count(*) AS "n", sum("tasks"."points") AS "total", max("tasks"."title") AS "last" FROM "tasks" WHERE "tasks"."org_id" = $1 AND "tasks"."done" = $2 GROUP BY "tasks"."project_id" HAVING count(*) > $3 ORDER BY "tasks"."project_id""#)
        #expect(binds == [o, "false", "1"])
    }

    @Test func keysetPagination() throws {
        let p = Projects.table
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let id = UUID()
        let first = Select.from(p).columns(p.id).keysetPage(by: p.createdAt, p.id, after: nil, descending: true, limit: 2)
        let next = Select.from(p).columns(p.id).keysetPage(by: p.createdAt, p.id, after: (date, id), descending: true, limit: 2)
        #expect(try rendered(first).sql == #"SELECT "projects"."id" FROM "projects" WHERE "projects"."org_id" = $1 ORDER BY "projects"."created_at" DESC, "projects"."id" DESC LIMIT $2"#)
        let (sql, binds) = try rendered(next)
        #expect(sql == #"SELECT "projects"."id" FROM "projects" WHERE "projects"."org_id" = $1 AND ("projects"."created_at", "projects"."id") < ($2, $3) ORDER BY "projects"."created_at" DESC, "projects"."id" DESC LIMIT $4"#)
        #expect(binds == [o, "\(date)", id.uuidString.lowercased(), "2"])
        let single = Select.from(p).columns(p.id).keysetPage(by: p.score, after: 7, limit: 10)
        #expect(try rendered(single).sql == #"SELECT "projects"."id" FROM "projects" WHERE "projects"."org_id" = $1 AND "projects"."score" > $2 ORDER BY "projects"."score" LIMIT $3"#)
    }

    @Test func organizationsTableIsScopedByItsID() throws {
        let org = Orgs.table
        let (sql, binds) = try rendered(Select.from(org).columns(org.name))
        #expect(sql == #"SELECT "orgs"."name" FROM "orgs" WHERE "orgs"."id" = $1"#)
        #expect(binds == [o])
    }

    @Test func globalStatementsRenderWithoutScope() throws {
        let a = Accounts.table
        let query = try Select.from(a).where(a.email.lowercased == "x@example.com").renderGlobal()
        #expect(query.sql == #"SELECT "accounts".* FROM "accounts" WHERE lower("accounts"."email") = $1"#)
        #expect(query.binds.count == 1)
        #expect(throws: TenantSQLError.self) { try Select.from(Projects.table).renderGlobal() }
        #expect(throws: TenantSQLError.self) { try Delete.from(Items.table).renderGlobal() }
    }

    // MARK: INSERT

    @Test func insertStampsOrgIDInEveryRow() throws {
        let p = Projects.table
        let statement = Insert.into(p).values(p.name.set("n1"), p.score.set(3)).values(p.name.set("n2")).returning(p.id)
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"INSERT INTO "projects" ("org_id", "name", "score") VALUES ($1, $2, $3), ($1, $4, DEFAULT) RETURNING "projects"."id""#)
        #expect(binds == [o, "n1", "3", "n2"])
    }

    @Test func insertRowMayCarryItsOwnOrgOnly() async throws {
        let p = Projects.table
        let own = try rendered(Insert.into(p).values(p.orgID.set(orgA), p.name.set("x")))
        #expect(own.sql == #"INSERT INTO "projects" ("org_id", "name") VALUES ($1, $2)"#)
        #expect(own.binds == [o, "x"])

        let foreign = Insert.into(p).rows([[p.name.set("ok")], [p.orgID.set(orgB), p.name.set("x")]])
        let error = await captureError(TenantSQLError.self) { try rendered(foreign) }
        #expect(error?.kind == .foreignOrganization)

        let items = Items.table
        let publicRow = Insert.into(items).values(items.orgID.set(nil), items.slug.set("s"), items.name.set("n"))
        #expect(await captureError(TenantSQLError.self) { try rendered(publicRow) }?.kind == .foreignOrganization)
        let plain = Insert.into(p).values(p.orgIDAsPlainColumn.set(orgB), p.name.set("x"))
        #expect(await captureError(TenantSQLError.self) { try rendered(plain) }?.kind == .foreignOrganization)
    }

    @Test func insertIntoMixedCatalogIsOwnOrg() throws {
        let i = Items.table
        let (sql, binds) = try rendered(Insert.into(i).values(i.slug.set("s"), i.name.set("n")))
        #expect(sql == #"INSERT INTO "items" ("org_id", "slug", "name") VALUES ($1, $2, $3)"#)
        #expect(binds == [o, "s", "n"])
    }

    @Test func onConflictTargetsLeadWithOrgID() throws {
        let p = Projects.table
        let nothing = Insert.into(p).values(p.name.set("x")).onConflictDoNothing(p.name)
        #expect(try rendered(nothing).sql == #"INSERT INTO "projects" ("org_id", "name") VALUES ($1, $2) ON CONFLICT ("org_id", "name") DO NOTHING"#)
        let any = Insert.into(p).values(p.name.set("x")).onConflictDoNothing()
        #expect(try rendered(any).sql == #"INSERT INTO "projects" ("org_id", "name") VALUES ($1, $2) ON CONFLICT DO NOTHING"#)
        let upsert = Insert.into(p).values(p.name.set("x"), p.score.set(1))
            .onConflict([p.name], doUpdate: [p.score.set(p.score + p.score.excluded)], where: p.score < 100)
            .returning(p.score)
        let (sql, binds) = try rendered(upsert)
        #expect(sql == #"INSERT INTO "projects" ("org_id", "name", "score") VALUES ($1, $2, $3) ON CONFLICT ("org_id", "name") DO UPDATE SET "score" = "projects"."score" + EXCLUDED."score" WHERE "projects"."score" < $4 RETURNING "projects"."score""#)
        #expect(binds == [o, "x", "1", "100"])
        let moving = Insert.into(p).values(p.name.set("x")).onConflict([p.name], doUpdate: [p.orgIDAsPlainColumn.set(orgB)])
        #expect(throws: TenantSQLError.self) { try rendered(moving) }
    }

    @Test func emptyInsertIsRefused() {
        #expect(throws: TenantSQLError.self) { try rendered(Insert.into(Projects.table)) }
    }

    // MARK: UPDATE and DELETE

    @Test func updateIsScopedAndBindsInTextOrder() throws {
        let p = Projects.table
        let id = UUID()
        let statement = Update.table(p).set(p.score.set(p.score + 1), p.name.set("z")).where(p.id == id).returning(p.score)
        let (sql, binds) = try rendered(statement)
        #expect(sql == #"UPDATE "projects" SET "score" = "projects"."score" + $1, "name" = $2 WHERE "projects"."org_id" = $3 AND "projects"."id" = $4 RETURNING "projects"."score""#)
        #expect(binds == ["1", "z", o, id.uuidString.lowercased()])
    }

    @Test func updateWithSubqueryAndMixedCatalogWrites() throws {
        let p = Projects.table, t = Tasks.table
        let statement = Update.table(p).set(p.score.set(0)).where(p.id.in(Select.from(t).columns(t.projectID).where(t.done == true)))
        #expect(try rendered(statement).sql == #"UPDATE "projects" SET "score" = $1 WHERE "projects"."org_id" = $2 AND "projects"."id" IN (SELECT "tasks"."project_id" FROM "tasks" WHERE "tasks"."org_id" = $2 AND "tasks"."done" = $3)"#)
        let i = Items.as("i")
        #expect(try rendered(Update.table(i).set(i.name.set("n"))).sql == #"UPDATE "items" AS "i" SET "name" = $1 WHERE "i"."org_id" = $2"#)
    }

    @Test func updateCannotAssignTheOrgColumn() async throws {
        // `Update.table(p).set(p.orgID.set(orgB))` does not compile: OrgColumn.set makes an
        // OrgAssignment, which UPDATE does not take. A plain column over org_id is caught here.
        let p = Projects.table
        let statement = Update.table(p).set(p.orgIDAsPlainColumn.set(orgA))
        #expect(await captureError(TenantSQLError.self) { try rendered(statement) }?.kind == .orgColumnAssigned)
        #expect(throws: TenantSQLError.self) { try rendered(Update.table(p)) }
    }

    @Test func deleteIsScoped() throws {
        let t = Tasks.table
        let (sql, binds) = try rendered(Delete.from(t).where(t.done == true).returning(t.id))
        #expect(sql == #"DELETE FROM "tasks" WHERE "tasks"."org_id" = $1 AND "tasks"."done" = $2 RETURNING "tasks"."id""#)
        #expect(binds == [o, "true"])
        #expect(try rendered(Delete.from(Items.as("i"))).sql == #"DELETE FROM "items" AS "i" WHERE "i"."org_id" = $1"#)
    }

    // MARK: Stability and mistakes

    @Test func sqlTextIsTheSameForEveryOrg() throws {
        let p = Projects.as("p"), t = Tasks.as("t")
        let statement = Select.from(p).columns(p.name).join(t, on: t.projectID == p.id).where(t.points > 1)
        let a = try rendered(statement, org: orgA), b = try rendered(statement, org: orgB)
        #expect(a.sql == b.sql)
        #expect(a.binds == [o, "1"])
        #expect(b.binds == [orgB.uuidString.lowercased(), "1"])
    }

    @Test func aliasMistakesAreCaught() async throws {
        let p = Projects.table, t = Tasks.table
        let twice = Select.from(p).join(p, on: p.id == p.id)
        #expect(await captureError(TenantSQLError.self) { try rendered(twice) }?.kind == .duplicateAlias)
        let shadow = Select.from(p).where(exists(Select.from(p)))
        #expect(await captureError(TenantSQLError.self) { try rendered(shadow) }?.kind == .duplicateAlias)
        let stray = Select.from(p).where(t.done == true)
        #expect(await captureError(TenantSQLError.self) { try rendered(stray) }?.kind == .unknownTable)
    }

    @Test func scopeAndUnscopedAccessRender() throws {
        let scope = OrgScope(orgID: orgA, actor: .user(userA), context: PlainSettingContext(), on: RenderOnlyHost())
        let p = Projects.table
        let statement = Select.from(p).columns(p.id).where(p.score > 1)
        #expect(try scope.render(statement).sql == (try rendered(statement).sql))
        #expect(try scope.contextStatement(backendPID: 1).sql == "SELECT set_config('tenantkit.org_id', $1, true), set_config('tenantkit.user_id', $2, true), set_config('tenantkit.api_key_id', $3, true)")
        let access = try UnscopedAccess(unsafelyBypassingOrgScopeFor: "test", auditedIn: orgA, actor: .user(userA), context: PlainSettingContext(), on: RenderOnlyHost())
        #expect(try access.render(statement).sql == #"SELECT "projects"."id" FROM "projects" WHERE "projects"."score" > $1"#)
        #expect(try access.render(Insert.into(Items.table).values(Items.table.orgID.set(nil), Items.table.slug.set("s"))).sql
            == #"INSERT INTO "items" ("org_id", "slug") VALUES ($1, $2)"#)
        #expect(throws: TenantSQLError.self) {
            try UnscopedAccess(unsafelyBypassingOrgScopeFor: "  ", auditedIn: orgA, actor: .user(userA), context: PlainSettingContext(), on: RenderOnlyHost())
        }
    }
}
