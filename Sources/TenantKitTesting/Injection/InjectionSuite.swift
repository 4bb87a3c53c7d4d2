import Foundation
import TenantKitPostgres
import Synchronization
import TenantKit
import TenantSQL

/// Runs a corpus of SQL-injection attacks, each inside a legitimate ``OrgScope`` of its attacker,
/// and reports whether each was contained: nothing of org B in any result or error, nothing changed
/// in a superuser ``DatabaseSnapshot`` of what the attacker must not touch, nothing left on the
/// pooled connection for its next lease, and B unaffected when it uses the same pool afterwards.
///
/// Every attack and attacker gets a fresh copy of the ``InjectionWorld`` (a database cloned from
/// ``TestDatabaseTemplate/injectionWorld``), so no attack sees another's effects; or, where no
/// clone can be had (a Citus cluster), all run in one ``sharedWorld``, restored after each attack.
///
/// How scopes and stores are made is the caller's, so the corpus does not depend on `OrgScope`'s
/// initializer or on the signing key (the world's databases have ``TenantContextKey/forTesting``
/// installed):
///
/// ```swift
/// @Test func injectionsAreContained() async throws {
///     var suite = InjectionSuite(
///         makeScope: { org, actor, host in OrgScope(orgID: org, actor: actor, context: TestDatabase.context, on: host) },
///         makeStore: { pool in TenantStore(pool: pool, key: .forTesting) })
///     suite.extraSecrets = [InjectionSecret("context signing key", .text(TenantContextKey.forTesting.hexSecret))]
///     let report = try await suite.run()
///     print(report.table)
///     try report.requireContained()
/// }
/// ```
public struct InjectionSuite: Sendable {
    /// Makes the scope a principal works in (the attacker's, or a victim's).
    public typealias ScopeMaker = @Sendable (_ orgID: UUID, _ actor: OrgScope.Actor, _ host: any OrgScopeHost) -> OrgScope
    /// Makes the store pre-tenant calls go through.
    public typealias StoreMaker = @Sendable (_ pool: PostgresPool) -> TenantStore

    /// How scopes are made, for attackers and victims alike.
    public var makeScope: ScopeMaker
    /// How stores are made, for pre-tenant calls.
    public var makeStore: StoreMaker
    /// What the attack's pools do with a connection the attack tainted: ``TaintedConnections/close``
    /// on a Citus coordinator, as TenantKit asks of a pool there.
    public var taintedConnections: TaintedConnections = .reset
    /// The attacks, by default ``InjectionCorpus/all``.
    public var corpus: [InjectionAttack]
    /// Values besides B's data that no attack may see, such as the context signing key.
    public var extraSecrets: [InjectionSecret]
    /// Victim checks run after every attack, besides each attack's own.
    public var victimChecks: [InjectionVictimCheck]
    /// The world's template.
    public var template: TestDatabaseTemplate
    /// One world every attack runs in, instead of a clone of `template` each; nil by default.
    public var sharedWorld: InjectionSharedWorld?
    /// The longest a step or a victim check may take before it counts as hanging.
    public var timeLimit: Duration

    /// A suite with the whole corpus and the standard victim checks.
    public init(makeScope: @escaping ScopeMaker, makeStore: @escaping StoreMaker, corpus: [InjectionAttack] = InjectionCorpus.all) {
        self.makeScope = makeScope
        self.makeStore = makeStore
        self.corpus = corpus
        self.extraSecrets = []
        self.victimChecks = [.victimReadsItsOwnData, .victimKeyAuthenticatesIntoItsOrg]
        self.template = .injectionWorld
        self.timeLimit = .seconds(20)
    }

    /// Runs every attack of the corpus as each of its attackers (those `include` accepts), one after
    /// another. Throws only when the world cannot be built; a failing attack is in the report.
    public func run(
        where include: @Sendable (InjectionAttack, InjectionAttacker) -> Bool = { _, _ in true }
    ) async throws -> InjectionReport {
        let started = ContinuousClock.now
        let (world, clean) = try await prepare()
        var results: [InjectionResult] = []
        for attack in corpus {
            for attacker in attack.attackers where include(attack, attacker) {
                results.append(await run(attack, as: attacker, in: world, clean: clean))
            }
        }
        return InjectionReport(results: results, duration: ContinuousClock.now - started)
    }

    // MARK: One attack

    /// The world's ids and secrets, and the state of a pooled connection that only did scoped work.
    private func prepare() async throws -> (InjectionWorld, LeaseResidue) {
        if let shared = sharedWorld {
            try await shared.captureBaseline()
            return try await prepare(in: shared.database)
        }
        let database = try await TestDatabase.create(template: template)
        do {
            let prepared = try await prepare(in: database)
            try await database.drop()
            return prepared
        } catch {
            try? await database.drop()
            throw error
        }
    }

    private func prepare(in database: TestDatabase) async throws -> (InjectionWorld, LeaseResidue) {
        let world = try await PostgresConnection.withConnection(database.configuration) { try await InjectionWorld.load(from: $0) }
        let pool = database.makePool(user: "tenantkit_app", maxConnections: 1, taintedConnections: taintedConnections)
        do {
            let scope = makeScope(world.orgB, .user(world.adminOfB), pool)
            _ = try await ActiveOrg(scope: scope).organization.get()
            let clean = try await LeaseResidue.probe(pool)
            await pool.close()
            return (world, clean)
        } catch {
            await pool.close()
            throw error
        }
    }

    private func run(_ attack: InjectionAttack, as attacker: InjectionAttacker, in world: InjectionWorld, clean: LeaseResidue) async -> InjectionResult {
        let started = ContinuousClock.now
        var run = Run(attack: attack, attacker: attacker)
        let database: TestDatabase
        do {
            if let shared = sharedWorld { database = shared.database } else { database = try await TestDatabase.create(template: template) }
        } catch {
            run.harnessError = "could not create the world: \(SecretScanner.text(of: error))"
            return run.result(duration: ContinuousClock.now - started)
        }
        let principal = world.principal(attacker)
        let pool = database.makePool(user: "tenantkit_app", maxConnections: 1, acquireTimeout: .seconds(5), taintedConnections: taintedConnections)
        let context = InjectionContext(
            world: world, principal: principal, database: database, pool: pool, makeScope: makeScope, makeStore: makeStore,
            placeholders: world.placeholders(for: attacker, database: database.name), resources: InjectionContext.Resources())
        let admin: PostgresConnection
        do {
            admin = try await database.connect()
        } catch {
            run.harnessError = "could not connect to the world: \(SecretScanner.text(of: error))"
            await pool.close()
            await finish(database, into: &run)
            return run.result(duration: ContinuousClock.now - started)
        }
        // Roles are cluster-wide: no other test may create or drop one between the two snapshots.
        await ClusterRoleChanges.shared.beginObserving()
        var observing = true
        do {
            let protection = try await DatabaseSnapshot.Protection.of(principal, on: admin)
            let before = try await DatabaseSnapshot.take(on: admin, protecting: protection)
            let scanner = SecretScanner(
                secrets: world.secretsOfB + world.keySecrets + extraSecrets, typed: attack.typedSQL.map(context.sql).joined(separator: "\n"))

            for (index, step) in attack.steps.enumerated() {
                await perform(step, number: index + 1, context: context, scanner: scanner, into: &run)
            }
            await context.resources.closeAll()

            do {
                run.residue = try await LeaseResidue.probe(pool).differences(from: clean)
            } catch {
                // A next lease that cannot even be probed is what the attack left for it (a pool
                // that closes tainted connections meets role defaults such as a timeout at once).
                run.residue = ["the next lease on the attack's pool failed: \(Self.brief(error))"]
            }
            run.changes = try await DatabaseSnapshot.take(on: admin, protecting: protection).differences(from: before)
            observing = false
            await ClusterRoleChanges.shared.endObserving()

            for check in victimChecks + attack.victimChecks {
                do {
                    guard let problems = try await within(timeLimit, { try await check.run(context) }) else {
                        run.victimProblems.append("\(check.name): did not finish within \(timeLimit)")
                        continue
                    }
                    run.victimProblems += problems.map { "\(check.name): \($0)" }
                } catch {
                    run.victimProblems.append("\(check.name): failed with \(Self.brief(error))")
                }
            }
        } catch {
            run.harnessError = SecretScanner.text(of: error)
        }
        if observing { await ClusterRoleChanges.shared.endObserving() }
        await context.resources.closeAll()
        await pool.close()
        await admin.close()
        await finish(database, into: &run)
        return run.result(duration: ContinuousClock.now - started)
    }

    /// Drops the attack's clone, or puts the shared world back as it was before the attack.
    private func finish(_ database: TestDatabase, into run: inout Run) async {
        guard let shared = sharedWorld else {
            try? await database.drop()
            return
        }
        do {
            let restored = try await shared.restore()
            run.worldRestored = restored.all
            // A transaction kept past the attack's session is state it left behind, on whichever node.
            run.residue += restored.keptTransactions
        } catch {
            run.harnessError = (run.harnessError.map { $0 + "; " } ?? "") + SecretScanner.text(of: error)
        }
    }

    /// Runs one step and records what it saw.
    private func perform(_ step: InjectionStep, number: Int, context: InjectionContext, scanner: SecretScanner, into run: inout Run) async {
        let label = "\(number) (\(step.summary))"
        let limit = timeLimit
        func sawInRows(_ rows: PostgresRows) {
            for (secret, column) in scanner.scan(rows) { run.leaks.append("step \(label) returned \(secret) in column \(column)") }
        }
        func sawInError(_ error: any Error) {
            for secret in scanner.scan(error) { run.leaks.append("step \(label) failed with an error naming \(secret)") }
        }
        switch step {
        case .statement(let template):
            let sql = context.sql(template)
            do {
                guard let rows = try await within(limit, { try await context.attackerScope().query(PostgresQuery(unsafeSQL: sql)) }) else {
                    run.steps.append(.init(summary: label, outcome: "did not finish within \(limit)"))
                    return
                }
                sawInRows(rows)
                run.steps.append(.init(summary: label, outcome: "ok: \(rows.commandTag), \(rows.count) row(s)"))
            } catch {
                sawInError(error)
                run.steps.append(.init(summary: label, outcome: "refused: \(Self.brief(error))"))
            }

        case .transaction(let templates):
            let sqls = templates.map(context.sql)
            let results = Results()
            do {
                let finished: Void? = try await within(limit) {
                    try await context.attackerScope().transaction { tx in
                        for sql in sqls { results.append(try await tx.query(PostgresQuery(unsafeSQL: sql))) }
                    }
                }
                results.all.forEach(sawInRows)
                run.steps.append(.init(summary: label, outcome: finished == nil ? "did not finish within \(limit)"
                                       : "ok: " + results.all.map(\.commandTag).joined(separator: ", ")))
            } catch {
                results.all.forEach(sawInRows)
                sawInError(error)
                run.steps.append(.init(summary: label, outcome: "refused at statement \(results.all.count + 1): \(Self.brief(error))"))
            }

        case .swift(_, _, let body):
            do {
                guard let seen = try await within(limit, { try await body(context) }) else {
                    run.steps.append(.init(summary: label, outcome: "did not finish within \(limit)"))
                    return
                }
                for text in seen {
                    for secret in scanner.scan(text: text) { run.leaks.append("step \(label) got back \(secret)") }
                }
                run.steps.append(.init(summary: label, outcome: "ok, \(seen.count) value(s) back"))
            } catch let breach as InjectionBreach {
                run.victimProblems.append("step \(label): \(breach.description)")
                run.steps.append(.init(summary: label, outcome: "breach observed"))
            } catch {
                sawInError(error)
                run.steps.append(.init(summary: label, outcome: "refused: \(Self.brief(error))"))
            }

        case .oracle(let templates, let secret, let decoy):
            let real = context.sql(secret), fake = context.sql(decoy)
            let answers = await oracle(templates, probe: real, context: context, limit: limit)
            let decoyAnswers = await oracle(templates, probe: fake, context: context, limit: limit)
            answers.rows.forEach(sawInRows)
            answers.errors.forEach(sawInError)
            if answers.outcomes != decoyAnswers.outcomes {
                run.leaks.append("step \(label) answers differently for B's '\(real)' (\(answers.outcomes.joined(separator: "; "))) "
                                 + "and for '\(fake)' (\(decoyAnswers.outcomes.joined(separator: "; ")))")
            }
            run.steps.append(.init(summary: label, outcome: "B's value: \(answers.outcomes.joined(separator: "; ")); decoy: "
                                   + decoyAnswers.outcomes.joined(separator: "; ")))
        }
    }

    /// The statements with `{{probe}}` set, in a transaction that is always rolled back; each
    /// statement's outcome with the probe itself blanked out.
    private func oracle(_ templates: [String], probe: String, context: InjectionContext, limit: Duration)
        async -> (outcomes: [String], rows: [PostgresRows], errors: [any Error]) {
        struct RollBack: Error {}
        let sqls = templates.map { context.sql($0.replacingOccurrences(of: "{{probe}}", with: probe)) }
        let results = Results()
        var outcomes: [String] = []
        var errors: [any Error] = []
        do {
            _ = try await within(limit) {
                try await context.attackerScope().transaction { tx in
                    for sql in sqls { results.append(try await tx.query(PostgresQuery(unsafeSQL: sql))) }
                    throw RollBack()
                }
            }
            outcomes.append("did not finish")
        } catch is RollBack {
        } catch {
            errors.append(error)
        }
        outcomes = results.all.map { "ok: \($0.commandTag)" } + errors.map { "refused: \(Self.brief($0))" } + outcomes
        return (outcomes.map { $0.replacingOccurrences(of: probe, with: "<probe>") }, results.all, errors)
    }

    /// SQLSTATE and message of an error, for step outcomes.
    static func brief(_ error: any Error) -> String {
        if let error = error as? PostgresError { return "\(error.code.code) \(error.message)" }
        return "\(error)"
    }

    /// Results of a transaction's statements as they arrive (a refusal ends the transaction early).
    private final class Results: Sendable {
        private let rows = Mutex<[PostgresRows]>([])
        func append(_ result: PostgresRows) { rows.withLock { $0.append(result) } }
        var all: [PostgresRows] { rows.withLock { $0 } }
    }

    /// What one run has found so far.
    private struct Run {
        let attack: InjectionAttack
        let attacker: InjectionAttacker
        var steps: [InjectionResult.Step] = []
        var leaks: [String] = []
        var changes: [DatabaseSnapshot.Difference] = []
        var residue: [String] = []
        var victimProblems: [String] = []
        var harnessError: String?
        var worldRestored: [String] = []

        func result(duration: Duration) -> InjectionResult {
            InjectionResult(
                attack: attack.name, finding: attack.finding, attacker: attacker, expectation: attack.expectation, steps: steps,
                leaks: leaks, changes: changes, residue: residue, victimProblems: victimProblems, harnessError: harnessError,
                worldRestored: worldRestored, duration: duration)
        }
    }
}
