import Foundation

/// One page of a listing, and where the next one starts. Every listing of the repositories pages
/// this way (catalog, members, API keys, invitations, runs, ledger, audit log):
///
/// ```swift
/// var page = try await org.catalog.page(limit: 50)
/// while let next = page.next {
///     page = try await org.catalog.page(after: next, limit: 50)
/// }
/// ```
///
/// Pages are keyset pages: a row inserted or deleted meanwhile never shifts the next page.
public struct Page<Item: Codable & Sendable>: Codable, Sendable {
    /// The page's items, in the listing's order.
    public let items: [Item]
    /// Where the next page starts, or nil on the last page. Hand it to a client as it is.
    public let next: PageCursor?

    public init(items: [Item], next: PageCursor?) {
        self.items = items
        self.next = next
    }
}

extension Page: Equatable where Item: Equatable {}

/// An opaque position in one listing: a string a client may keep and send back (in a URL, a JSON
/// body), and that only that listing accepts. It holds the last item's sort keys, which its
/// reader has seen: nothing else.
public struct PageCursor: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The cursor as text (base64url).
    public let text: String

    /// A cursor a client sent back; checked when a listing reads it.
    public init(text: String) { self.text = text }

    public init(from decoder: any Decoder) throws {
        text = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public var description: String { text }

    /// The cursor of `listing` after a row with sort keys `keys`.
    init(listing: String, keys: [String]) {
        let json = try! JSONSerialization.data(withJSONObject: [listing] + keys)  // strings only: cannot fail
        text = json.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The sort keys, when this is a cursor of `listing` with `count` keys; otherwise throws
    /// ``TenantError/invalidInput(_:)`` naming the listing.
    func keys(of listing: String, count: Int) throws -> [String] {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.utf8.count <= 2_048, let data = Data(base64Encoded: base64),
              let values = try? JSONSerialization.jsonObject(with: data) as? [String],
              values.count == count + 1, values[0] == listing
        else {
            throw TenantError.invalidInput("the page cursor is not one of the \(listing) listing's")
        }
        return Array(values.dropFirst())
    }

    /// The cursor after a row of a listing ordered by (a timestamp, an id).
    init(listing: String, after date: Date, _ id: UUID) {
        self.init(listing: listing, keys: [CursorKey.text(date), CursorKey.text(id)])
    }

    /// The cursor after a row of a listing ordered by (a text, an id).
    init(listing: String, after text: String, _ id: UUID) {
        self.init(listing: listing, keys: [text, CursorKey.text(id)])
    }

    /// The (timestamp, id) this cursor of `listing` names.
    func dateAndID(of listing: String) throws -> (Date, UUID) {
        let keys = try keys(of: listing, count: 2)
        return (try CursorKey.date(keys[0], listing), try CursorKey.uuid(keys[1], listing))
    }

    /// The (text, id) this cursor of `listing` names.
    func textAndID(of listing: String) throws -> (String, UUID) {
        let keys = try keys(of: listing, count: 2)
        return (keys[0], try CursorKey.uuid(keys[1], listing))
    }
}

/// Sort keys as cursor text and back, exactly (a timestamp keeps every bit, so the next page
/// starts right after the last row).
enum CursorKey {
    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }
    static func text(_ date: Date) -> String { String(date.timeIntervalSinceReferenceDate.bitPattern, radix: 16) }
    static func text(_ number: Int64) -> String { String(number) }

    static func uuid(_ text: String, _ listing: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw invalid(listing) }
        return id
    }

    static func date(_ text: String, _ listing: String) throws -> Date {
        guard let bits = UInt64(text, radix: 16) else { throw invalid(listing) }
        let seconds = Double(bitPattern: bits)
        guard seconds.isFinite else { throw invalid(listing) }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    static func int64(_ text: String, _ listing: String) throws -> Int64 {
        guard let number = Int64(text) else { throw invalid(listing) }
        return number
    }

    private static func invalid(_ listing: String) -> TenantError {
        .invalidInput("the page cursor is not one of the \(listing) listing's")
    }
}

/// A page's size, checked: 1 to 500.
func checkedPageLimit(_ limit: Int, _ what: String) throws -> Int {
    guard (1...500).contains(limit) else { throw TenantError.invalidInput("a page holds 1 to 500 \(what)") }
    return limit
}
