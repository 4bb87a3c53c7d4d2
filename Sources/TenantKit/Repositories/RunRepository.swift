import Foundation
import TenantKitPostgres
import TenantSQL

/// Runs in the active organization. Starting one debits the organization's balance, records the
/// run and its audit entry in one transaction: all of it lands or none of it does.
public struct RunRepository: Sendable {
    let scope: OrgScope

    /// Starts a run of a catalog item the organization can see (public or its own), charging `cost`
    /// ECU (at least 1). The same idempotency key twice starts one run and returns it both times.
    public func start(itemID: UUID, cost: Int64, idempotencyKey: String) async throws -> Run {
        guard cost > 0 else { throw TenantError.invalidInput("a run costs at least 1 ECU") }
        try CreditRepository.validate(reason: "run", idempotencyKey: idempotencyKey)
        do {
            let started = try await scope.transaction { tx -> Run? in
                try await tx.require(.member, to: "starting runs")
                let c = CatalogItemsTable.table
                guard let slug = try await tx.fetchOptional(Select.from(c).columns(c.slug).where(c.id == itemID), as: String.self) else {
                    throw TenantError.notFound("catalog item \(itemID)")
                }
                let r = RunsTable.table
                let run = try await tx.fetchOne(
                    Insert.into(r).values(r.catalogItemID.set(itemID), r.cost.set(cost), r.status.set(Run.Status.running.rawValue),
                                          r.startedAt.set(now(as: Date?.self)))
                        .returning(Self.columns(r)),
                    as: Run.self)
                guard try await tx.insertLedger(-cost, reason: "run of \(slug)", idempotencyKey: idempotencyKey, runID: run.id) != nil else {
                    throw RepeatedKey()  // rolls this attempt back; the first run is the answer
                }
                try await tx.audit("run.started", target: run.id.uuidString.lowercased(),
                                   details: ["item": slug, "cost": "\(cost)", "idempotency_key": idempotencyKey])
                return run
            }
            if let started { return started }
        } catch is RepeatedKey {
        } catch let error as PostgresError where ConstraintViolation.insufficientCredits.matches(error) {
            throw TenantError.insufficientCredits(balance: try await CreditRepository(scope: scope).balance(), requested: cost)
        }
        guard let entry = try await CreditRepository(scope: scope).entry(idempotencyKey: idempotencyKey), let runID = entry.runID else {
            throw TenantError.alreadyExists("a ledger entry with this idempotency key (not a run)")
        }
        return try await run(runID)
    }

    /// Marks a running run as succeeded, or failed with an error message.
    public func finish(_ id: UUID, error: String? = nil) async throws -> Run {
        let status: Run.Status = error == nil ? .succeeded : .failed
        return try await scope.transaction { tx in
            try await tx.require(.member, to: "finishing runs")
            let r = RunsTable.table
            let update = Update.table(r)
                .set(r.status.set(status.rawValue), r.error.set(error.map { String($0.prefix(2000)) }), r.finishedAt.set(now(as: Date?.self)))
                .where(r.id == id && r.status == Run.Status.running.rawValue)
                .returning(Self.columns(r))
            guard let run = try await tx.fetchOptional(update, as: Run.self) else { throw TenantError.notFound("running run \(id)") }
            try await tx.audit("run.\(status.rawValue)", target: id.uuidString.lowercased())
            return run
        }
    }

    public func run(_ id: UUID) async throws -> Run {
        let r = RunsTable.table
        guard let run = try await scope.fetchOptional(Select.from(r).columns(Self.columns(r)).where(r.id == id), as: Run.self) else {
            throw TenantError.notFound("run \(id)")
        }
        return run
    }

    /// Runs, newest first, `limit` at a time.
    public func page(after cursor: PageCursor? = nil, limit: Int = 50) async throws -> Page<Run> {
        let limit = try checkedPageLimit(limit, "runs")
        let after = try cursor.map { try $0.dateAndID(of: "runs") }
        let r = RunsTable.table
        let runs = try await scope.fetchAll(
            Select.from(r).columns(Self.columns(r)).keysetPage(by: r.createdAt, r.id, after: after, descending: true, limit: limit), as: Run.self)
        let next = runs.count == limit ? runs.last.map { PageCursor(listing: "runs", after: $0.createdAt, $0.id) } : nil
        return Page(items: runs, next: next)
    }

    /// What ``Run`` is read from.
    static func columns(_ r: RunsTable) -> [any Selectable] { r.columns(excluding: r.orgID) }

    private struct RepeatedKey: Error {}
}
