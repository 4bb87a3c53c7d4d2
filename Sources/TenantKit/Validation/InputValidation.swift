import Foundation

// The checks of what callers pass in, in one place: each throws TenantError.invalidInput with
// a message safe to show (it never echoes more than 64 characters of the input).

/// Checks a display name (organization, item, key): trimmed, 1...200 characters.
func validatedName(_ name: String, _ what: String) throws -> String {
    let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty, trimmed.count <= 200 else {
        throw TenantError.invalidInput("\(what) must have 1 to 200 characters")
    }
    return trimmed
}

/// JSON objects the repositories store (metadata, settings) are capped, so one row cannot grow
/// without bound.
let maximumJSONBytes = 65_536

/// Throws unless `value` encodes to at most ``maximumJSONBytes`` of JSON.
func requireBoundedJSON<T: Encodable>(_ value: T, _ what: String) throws {
    let size = try JSONEncoder().encode(value).count
    guard size <= maximumJSONBytes else {
        throw TenantError.invalidInput("\(what) is \(size) bytes of JSON; the limit is \(maximumJSONBytes)")
    }
}

/// A plausible email address, lowercased: one `@`, a dotted domain, no spaces, at most 254
/// characters, printable ASCII only (checked before folding case: the Kelvin sign would fold to
/// `k`), so no address folds into another's lookalike. IDN domains go in their `xn--` form. The
/// database checks the same rule (`users_email_format`).
func validatedEmail(_ email: String) throws -> String {
    let trimmed = email.trimmingCharacters(in: .whitespaces)
    let lowered = trimmed.lowercased()
    let parts = lowered.split(separator: "@", omittingEmptySubsequences: false)
    guard trimmed.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }),
          lowered.count <= 254, parts.count == 2, !parts[0].isEmpty, (try? validatedDomain(String(parts[1]))) != nil
    else { throw TenantError.invalidInput("\"\(email.prefix(64))\" is not an email address") }
    return lowered
}

/// A lowercased DNS name with at least one dot.
func validatedDomain(_ domain: String) throws -> String {
    let lowered = domain.trimmingCharacters(in: .whitespaces).lowercased()
    let labels = lowered.split(separator: ".", omittingEmptySubsequences: false)
    let valid = lowered.count <= 253 && labels.count >= 2 && labels.allSatisfy { label in
        !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
            && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
    guard valid else { throw TenantError.invalidInput("\"\(domain.prefix(64))\" is not a domain name") }
    return lowered
}

/// Checks a catalog item's kind and slug: lowercase ASCII letters, digits, `_`, `.`, `-`.
func validateCatalogKey(kind: String, slug: String) throws {
    func matches(_ text: String, first: (Character) -> Bool, maxLength: Int) -> Bool {
        guard let head = text.first, text.count <= maxLength, first(head) else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "_.-".contains($0)) }
    }
    guard matches(kind, first: { $0.isASCII && $0.isLowercase }, maxLength: 63) else {
        throw TenantError.invalidInput("kind must be lowercase letters, digits, '_', '.', '-', starting with a letter")
    }
    guard matches(slug, first: { $0.isASCII && ($0.isLowercase || $0.isNumber) }, maxLength: 128) else {
        throw TenantError.invalidInput("slug must be lowercase letters, digits, '_', '.', '-', at most 128 characters")
    }
}
