import Foundation

/// SQL text plus its bind parameters.
///
/// Interpolated values become `$n` placeholders with binary binds, never SQL text:
///
/// ```swift
/// let q: PostgresQuery = "SELECT name FROM users WHERE email = \(email) AND active = \(true)"
/// // q.sql == "SELECT name FROM users WHERE email = $1 AND active = $2"
/// ```
///
/// Identifiers go through `\(identifier:)`, which quotes them. Raw text needs the loudly named
/// `\(unsafeRaw:)` or ``init(unsafeSQL:binds:)``: never pass user input there.
///
/// **Static and dynamic text.** The literal parts of a query are `StaticString`s, so a string built
/// at run time cannot pose as a literal. A query made only of literals, binds and quoted
/// identifiers is *static*; one with `unsafeSQL` or `unsafeRaw` text is *dynamic*
/// (``isDynamic``). A connection that runs dynamic text may have been given session state by it,
/// so ``PostgresPool`` resets such a connection before anyone else leases it.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$1...$n` placeholders.
    public private(set) var sql: String
    /// The encoded parameters, redacted when printed.
    public private(set) var binds: PostgresBindings
    /// An interpolated value that failed to encode; thrown when the query is run.
    public private(set) var encodingError: PostgresEncodingError?
    /// True when some of the SQL text came from a runtime string (``init(unsafeSQL:binds:)`` or
    /// `\(unsafeRaw:)`): running it marks the connection for a reset before its next lease.
    public private(set) var isDynamic: Bool
    /// False for a one-off statement (see ``uncached()``): it is sent as the unnamed statement and
    /// never enters the connection's prepared-statement cache.
    public private(set) var isCached = true

    /// A query from text the caller vouches for, with parameters already numbered in it. The query
    /// is dynamic (``isDynamic``); never put user input in `unsafeSQL`.
    public init(unsafeSQL: String, binds: PostgresBindings = PostgresBindings()) {
        self.sql = unsafeSQL
        self.binds = binds
        self.isDynamic = true
    }

    /// A query whose text this package's own code built from literals, quoted identifiers and
    /// placeholders (TenantSQL's renderer, TenantKit's statements): static, like a literal.
    package init(trustedSQL: String, binds: PostgresBindings = PostgresBindings()) {
        self.sql = trustedSQL
        self.binds = binds
        self.isDynamic = false
    }

    public init(stringLiteral value: StaticString) {
        self.sql = String(staticString: value)
        self.binds = PostgresBindings()
        self.isDynamic = false
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
        self.encodingError = stringInterpolation.encodingError
        self.isDynamic = stringInterpolation.isDynamic
    }

    /// This query as a one-off statement: sent unnamed (parsed each time it runs) and never cached.
    /// For text that differs on every call, so it would only evict statements worth keeping.
    ///
    /// ```swift
    /// let rows = try await connection.query(PostgresQuery(unsafeSQL: adHocReportSQL).uncached())
    /// ```
    public func uncached() -> PostgresQuery {
        var copy = self
        copy.isCached = false
        return copy
    }

    /// The SQL text and the number of binds; bind values are never printed.
    public var description: String { "\(sql) \(binds)" }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds = PostgresBindings()
        var encodingError: PostgresEncodingError?
        var isDynamic = false

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        /// Literal text; a `StaticString`, so only compile-time text gets here.
        public mutating func appendLiteral(_ literal: StaticString) { sql.append(staticString: literal) }

        /// A value, sent as a bind parameter.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) { appendBind(value) }

        /// An optional value: a bind parameter that is NULL when `value` is nil.
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) { appendBind(value) }

        private mutating func appendBind<T: PostgresEncodable>(_ value: T) {
            do {
                try binds.append(value)
                sql += "$\(binds.count)"
            } catch let error as PostgresEncodingError {
                encodingError = encodingError ?? error
                sql += "NULL"
            } catch {
                encodingError = encodingError ?? PostgresEncodingError(swiftType: "\(T.self)", reason: "\(error)")
                sql += "NULL"
            }
        }

        /// An identifier (table, column, role), double-quoted with embedded quotes doubled. Keeps
        /// the query static: quoting makes any name one identifier.
        public mutating func appendInterpolation(identifier: String) {
            sql += PostgresIdentifier(identifier).quoted
        }

        /// Raw SQL text, spliced in as is; makes the query dynamic. Never pass values or user input here.
        public mutating func appendInterpolation(unsafeRaw text: String) {
            sql += text
            isDynamic = true
        }
    }
}

extension String {
    /// The text of a `StaticString` (which may hold a single scalar rather than UTF-8 bytes).
    init(staticString: StaticString) {
        self = staticString.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
    }

    mutating func append(staticString: StaticString) {
        staticString.withUTF8Buffer { append(String(decoding: $0, as: UTF8.self)) }
    }
}

/// A quoted SQL identifier: `"org_items"`, `"weird""name"`.
public struct PostgresIdentifier: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    /// The identifier in double quotes, safe to splice into SQL text.
    public var quoted: String {
        // Builders quote every identifier of every statement they render: skip Foundation's
        // search-and-replace (several allocations) in the usual case of a name without quotes.
        var out = "\""
        if name.utf8.contains(UInt8(ascii: "\"")) {
            for character in name { character == "\"" ? out.append("\"\"") : out.append(character) }
        } else {
            out.append(name)
        }
        out.append("\"")
        return out
    }
    public var description: String { quoted }
}
