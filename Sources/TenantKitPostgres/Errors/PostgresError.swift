/// An error reported by the PostgreSQL server for a statement.
///
/// `description` names the SQLSTATE, the constraint, table and column, and the statement's place in a
/// pipeline. It includes the server's message only for error classes whose messages name schema
/// objects alone (syntax, permissions, missing objects, cancels, lock and serialization failures),
/// never for data and constraint errors, whose messages and details quote row data or bind values
/// (`Key (email)=(a@b.c) already exists`). Read ``message`` and ``detail``, or
/// ``detailedDescription``, where showing them is safe.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public var code: SQLState
    public var severity: String
    /// The primary message; may contain values.
    public var message: String
    /// The detail line; often contains values.
    public var detail: String?
    public var hint: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var constraint: String?
    /// 1-based character position in the statement text, when the server reports one.
    public var position: Int?
    /// For a pipeline, the 0-based index of the statement that failed.
    public var statementIndex: Int?

    public var description: String {
        var text = "PostgreSQL error \(code)"
        if let constraint { text += ", constraint \(constraint)" }
        if let table { text += ", table \(table)" }
        if let column { text += ", column \(column)" }
        if let statementIndex { text += ", in statement \(statementIndex) of the pipeline" }
        if SQLState.messageIsSchemaOnly.contains(code.errorClass) { text += ": \(message)" }
        return text
    }

    /// Everything the server said, including the message and detail. Do not log it where other tenants' data must not appear.
    public var detailedDescription: String {
        var text = "\(severity) \(code): \(message)"
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        if let position { text += "\nPOSITION: \(position)" }
        if let statementIndex { text += "\nSTATEMENT INDEX: \(statementIndex)" }
        return text
    }
}

/// An error of the client side: configuration, connecting, a lost connection, the pool.
///
/// Messages never include a password.
public struct PostgresClientError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The URL or connection settings are malformed.
        public static let invalidConfiguration = Kind(raw: "invalid configuration")
        /// The server could not be reached or refused the login.
        public static let connectionFailed = Kind(raw: "connection failed")
        /// The connection broke (the server closed it or died); the statement's outcome is unknown
        /// unless it ran inside a transaction, which the server then rolled back.
        public static let connectionClosed = Kind(raw: "connection closed")
        /// No pooled connection became free within the pool's acquire timeout.
        public static let poolTimeout = Kind(raw: "pool timeout")
        /// The pool was shut down.
        public static let poolClosed = Kind(raw: "pool closed")
        /// libpq refused an operation or the server sent something unexpected.
        public static let protocolError = Kind(raw: "protocol error")
        /// `fetchOne` found no row.
        public static let noRows = Kind(raw: "no rows")
        /// A transaction's body caught a failed statement's error and returned: the server had
        /// already aborted the transaction, so nothing was committed.
        public static let transactionAborted = Kind(raw: "transaction aborted")
        /// A statement (or another `withTransaction`) was sent on a connection whose open transaction
        /// belongs to someone else's ``PostgresTransaction``: it was refused before anything was sent,
        /// so it neither joined nor saw that transaction.
        public static let transactionInProgress = Kind(raw: "transaction in progress")
        /// A ``PostgresTransaction`` was used after its `withTransaction` ended; nothing was sent.
        public static let transactionEnded = Kind(raw: "transaction ended")
        public var description: String { raw }
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }
}

/// A column value that could not be decoded into the requested Swift type.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    /// The column's name in the result.
    public let column: String
    /// The column's 0-based index.
    public let index: Int
    /// The Swift type asked for.
    public let swiftType: String
    /// The column's PostgreSQL type.
    public let postgresType: PostgresType
    /// Why it failed (never the value itself).
    public let reason: String

    public var description: String {
        "cannot decode column \"\(column)\" (index \(index)) of PostgreSQL type \(postgresType) as Swift type \(swiftType): \(reason)"
    }
}
