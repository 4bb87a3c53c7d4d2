@testable import TenantKitPostgres
import Testing

/// Who may send on a connection, without I/O.
@Suite struct TransactionOwnershipTests {
    private let begin: PostgresQuery = "BEGIN"
    private let prelude: PostgresQuery = "SELECT set_config('tk.org', 'a', true)"

    @Test func anyoneMaySendWhileNoTransactionIsOpen() throws {
        var ownership = TransactionOwnership()
        #expect(try ownership.start(.connection).isEmpty)
        #expect(!ownership.isOpen)
    }

    @Test func onlyTheHandleMaySendWhileATransactionIsOpen() throws {
        var ownership = TransactionOwnership()
        let id = try ownership.begin([begin, prelude])
        #expect(kind { try ownership.check(.connection) } == .transactionInProgress)
        #expect(kind { _ = try ownership.start(.connection) } == .transactionInProgress)
        #expect(kind { try ownership.check(.ending(id)) } == .transactionEnded)  // COMMIT only once the body is done
        #expect(try ownership.start(.transaction(id)).map(\.sql) == ["BEGIN", prelude.sql])
    }

    @Test func beginAndThePreludeGoWithTheFirstStatementOnly() throws {
        var ownership = TransactionOwnership()
        let id = try ownership.begin([begin, prelude])
        try ownership.check(.transaction(id))  // checking takes nothing
        #expect(try ownership.start(.transaction(id)).count == 2)
        #expect(try ownership.start(.transaction(id)).isEmpty)
    }

    @Test func aSecondTransactionIsRefused() throws {
        var ownership = TransactionOwnership()
        _ = try ownership.begin([begin])
        #expect(kind { _ = try ownership.begin([begin]) } == .transactionInProgress)
    }

    @Test func finishingBeforeAnythingWasSentNeedsNoRollback() throws {
        var ownership = TransactionOwnership()
        let id = try ownership.begin([begin])
        #expect(ownership.finish(id) == false)
        ownership.end(id)
        #expect(!ownership.isOpen)
    }

    @Test func endingRefusesTheHandleAndAdmitsOnlyCommitOrRollback() throws {
        var ownership = TransactionOwnership()
        let id = try ownership.begin([begin])
        _ = try ownership.start(.transaction(id))
        #expect(ownership.finish(id) == true)
        #expect(kind { _ = try ownership.start(.transaction(id)) } == .transactionEnded)
        #expect(kind { _ = try ownership.start(.connection) } == .transactionInProgress)
        #expect(try ownership.start(.ending(id)).isEmpty)
        ownership.end(id)
        #expect(try ownership.start(.connection).isEmpty)
    }

    @Test func anOldHandleCannotSendInALaterTransaction() throws {
        var ownership = TransactionOwnership()
        let first = try ownership.begin([begin])
        _ = ownership.finish(first)
        ownership.end(first)
        let second = try ownership.begin([begin])
        #expect(first != second)
        #expect(kind { _ = try ownership.start(.transaction(first)) } == .transactionEnded)
        #expect(kind { try ownership.check(.ending(first)) } == .transactionEnded)
        ownership.end(first)  // a stale end changes nothing
        #expect(ownership.isOpen)
        #expect(try ownership.start(.transaction(second)).count == 1)
    }

    private func kind(_ body: () throws -> Void) -> PostgresClientError.Kind? {
        do {
            try body()
            return nil
        } catch let error as PostgresClientError {
            return error.kind
        } catch {
            return nil
        }
    }
}
