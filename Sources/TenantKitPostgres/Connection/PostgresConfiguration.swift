import CLibPQ
import Foundation

/// Where and how to connect: a URL, `DATABASE_URL`, or libpq's own `PG*` environment variables.
///
/// ```swift
/// let config = try PostgresConfiguration(url: "postgres://app:secret@localhost:5432/stratix?sslmode=disable")
/// let unixSocket = try PostgresConfiguration(url: "postgres:///stratix?host=/var/run/postgresql")
/// let fromEnv = try PostgresConfiguration.fromEnvironment()
/// ```
///
/// Printing a configuration masks the password.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// libpq connection keywords and values (`host`, `port`, `dbname`, `user`, `password`, `sslmode`, ...).
    public private(set) var parameters: [String: String]
    /// What connections made with this configuration report per pipeline; a pool sets its own.
    var statementInstruments = StatementInstruments.off

    /// Parses a `postgres://` or `postgresql://` URL (libpq's URI syntax, unix-socket forms included).
    public init(url: String) throws {
        let trimmed = url.trimmingCharacters(in: .whitespacesAndNewlines)
        if let schemeEnd = trimmed.range(of: "://") {
            let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "postgres" || scheme == "postgresql" else {
                throw PostgresClientError(
                    .invalidConfiguration, "unsupported URL scheme \"\(scheme)\"; use postgres:// or postgresql://")
            }
        } else {
            throw PostgresClientError(
                .invalidConfiguration, "not a PostgreSQL URL (expected postgres://user@host:port/database)")
        }
        self.parameters = try Self.parse(conninfo: trimmed)
    }

    /// Keyword/value settings, as libpq names them; omitted ones fall back to `PG*` variables and libpq defaults.
    public init(parameters: [String: String] = [:]) {
        self.parameters = parameters
    }

    /// `DATABASE_URL` when it is set and not empty; otherwise libpq's `PGHOST`, `PGPORT`, `PGUSER`,
    /// `PGPASSWORD`, `PGDATABASE`, ... and its defaults.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> PostgresConfiguration
    {
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            do {
                return try PostgresConfiguration(url: url)
            } catch let error as PostgresClientError {
                throw PostgresClientError(error.kind, "DATABASE_URL: \(error.message)")
            }
        }
        return PostgresConfiguration()
    }

    public var host: String? { parameters["host"] ?? parameters["hostaddr"] }
    public var port: String? { parameters["port"] }
    public var database: String? { parameters["dbname"] }
    public var user: String? { parameters["user"] }

    /// A copy that connects to another database on the same server.
    public func with(database: String) -> PostgresConfiguration {
        var copy = self
        copy.parameters["dbname"] = database
        return copy
    }

    /// A copy that logs in as another role (keeping host, port and database).
    public func with(user: String, password: String? = nil) -> PostgresConfiguration {
        var copy = self
        copy.parameters["user"] = user
        copy.parameters["password"] = password
        return copy
    }

    /// A copy with one more libpq setting.
    public func with(_ keyword: String, _ value: String) -> PostgresConfiguration {
        var copy = self
        copy.parameters[keyword] = value
        return copy
    }

    /// The configuration as a URL, password masked.
    public var description: String { url(maskingPassword: true) }

    /// The configuration as a `postgres://` URL. `maskingPassword: false` includes the password.
    public func url(maskingPassword: Bool) -> String {
        func enc(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
        }
        var text = "postgres://"
        if let user { text += enc(user) }
        if let password = parameters["password"] { text += ":" + (maskingPassword ? "***" : enc(password)) }
        if user != nil || parameters["password"] != nil { text += "@" }
        let host = host ?? ""
        if !host.hasPrefix("/") { text += host }
        if let port { text += ":\(port)" }
        text += "/" + enc(database ?? "")
        var query = parameters.filter { !["user", "password", "dbname", "port"].contains($0.key) }
        if !host.hasPrefix("/") { query["host"] = nil; query["hostaddr"] = nil }
        if !query.isEmpty {
            text += "?" + query.sorted { $0.key < $1.key }.map { "\($0.key)=\(enc($0.value))" }.joined(separator: "&")
        }
        return text
    }

    /// True when connecting may block on a host name lookup: some host is a name rather than a
    /// numeric address or a socket directory (and no `hostaddr` is given). Reads `PGHOST` and
    /// `PGSERVICE` when the settings leave them to libpq.
    func needsNameLookup(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if parameters["hostaddr"] != nil { return false }
        if parameters["service"] != nil || (parameters["host"] == nil && environment["PGSERVICE"] != nil) { return true }
        guard let hosts = parameters["host"] ?? environment["PGHOST"] else { return false }
        return hosts.split(separator: ",", omittingEmptySubsequences: false).contains { host in
            !(host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") || Self.isNumericAddress(String(host)))
        }
    }

    private static func isNumericAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The seconds a connection attempt may take: `connect_timeout` (or `PGCONNECT_TIMEOUT`), 10
    /// when neither is set, nil (no limit) when set to zero or less. Like libpq, at least 2.
    func connectTimeoutSeconds(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresClientError) -> Int? {
        guard let text = parameters["connect_timeout"] ?? environment["PGCONNECT_TIMEOUT"] else { return 10 }
        guard let seconds = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw PostgresClientError(.invalidConfiguration, "connect_timeout must be a whole number of seconds, not \"\(text)\"")
        }
        return seconds > 0 ? max(2, seconds) : nil
    }

    /// Removes the password from text that libpq produced.
    func scrub(_ message: String) -> String {
        guard let password = parameters["password"], !password.isEmpty else { return message }
        return message.replacingOccurrences(of: password, with: "***")
    }

    private static func parse(conninfo: String) throws -> [String: String] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            defer { if let errorMessage { PQfreemem(errorMessage) } }
            var reason = errorMessage.map { String(cString: $0) } ?? "malformed URL"
            reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            // libpq may quote parts of the URL; never echo anything that could be the password.
            if let password = URLComponents(string: conninfo)?.password, !password.isEmpty {
                reason = reason.replacingOccurrences(of: password, with: "***")
            }
            throw PostgresClientError(.invalidConfiguration, "malformed PostgreSQL URL: \(reason)")
        }
        defer { PQconninfoFree(options) }
        var result: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { result[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        if let port = result["port"], !port.split(separator: ",").allSatisfy({ Int($0).map { (1...65535).contains($0) } ?? false }) {
            throw PostgresClientError(.invalidConfiguration, "malformed PostgreSQL URL: invalid port \"\(port)\"")
        }
        return result
    }
}
