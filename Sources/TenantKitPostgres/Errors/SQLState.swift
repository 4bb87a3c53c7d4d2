/// A five-character SQLSTATE code, such as `23505`.
///
/// A struct rather than an enum so that codes this library does not name still work and new names
/// never break a caller's `switch`.
public struct SQLState: Hashable, Sendable, CustomStringConvertible {
    /// The five characters, as PostgreSQL sent them.
    public let code: String

    public init(_ code: String) { self.code = code }

    public static let uniqueViolation = SQLState("23505")
    public static let foreignKeyViolation = SQLState("23503")
    public static let checkViolation = SQLState("23514")
    public static let notNullViolation = SQLState("23502")
    public static let exclusionViolation = SQLState("23P01")
    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    public static let queryCanceled = SQLState("57014")
    public static let adminShutdown = SQLState("57P01")
    public static let syntaxError = SQLState("42601")
    public static let undefinedTable = SQLState("42P01")
    public static let undefinedColumn = SQLState("42703")
    public static let insufficientPrivilege = SQLState("42501")
    public static let invalidTextRepresentation = SQLState("22P02")
    public static let numericValueOutOfRange = SQLState("22003")
    public static let stringDataRightTruncation = SQLState("22001")
    public static let raiseException = SQLState("P0001")
    public static let inFailedTransaction = SQLState("25P02")
    public static let lockNotAvailable = SQLState("55P03")
    public static let featureNotSupported = SQLState("0A000")
    public static let invalidPassword = SQLState("28P01")
    public static let invalidAuthorization = SQLState("28000")

    private static let names: [String: String] = [
        "23505": "unique_violation", "23503": "foreign_key_violation", "23514": "check_violation",
        "23502": "not_null_violation", "23P01": "exclusion_violation", "40001": "serialization_failure",
        "40P01": "deadlock_detected", "57014": "query_canceled", "57P01": "admin_shutdown",
        "42601": "syntax_error", "42P01": "undefined_table", "42703": "undefined_column",
        "42501": "insufficient_privilege", "22P02": "invalid_text_representation",
        "22003": "numeric_value_out_of_range", "22001": "string_data_right_truncation",
        "P0001": "raise_exception", "25P02": "in_failed_sql_transaction", "55P03": "lock_not_available",
        "0A000": "feature_not_supported", "28P01": "invalid_password", "28000": "invalid_authorization_specification",
        "3D000": "invalid_catalog_name", "42P04": "duplicate_database", "42710": "duplicate_object",
        "42P07": "duplicate_table", "42883": "undefined_function", "55006": "object_in_use",
        "57P03": "cannot_connect_now", "53300": "too_many_connections", "22012": "division_by_zero",
        "25006": "read_only_sql_transaction", "2BP01": "dependent_objects_still_exist",
    ]

    /// Classes whose server messages name only schema objects and conditions, never row data or
    /// bind values (unlike 22 data exceptions, 23 constraint violations or P0 user-raised errors).
    static let messageIsSchemaOnly: Set<Substring> = ["08", "0A", "25", "28", "2B", "3D", "3F", "40", "42", "53", "54", "55", "57", "58"]

    /// PostgreSQL's condition name (`unique_violation`), or nil for codes not listed here.
    public var name: String? { Self.names[code] }

    /// The two-character class: `23` is integrity constraint violation.
    public var errorClass: Substring { code.prefix(2) }

    public var description: String { name.map { "\(code) \($0)" } ?? code }
}
