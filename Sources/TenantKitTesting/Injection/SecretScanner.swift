import Foundation
import TenantKitPostgres

/// Looks for secrets in what an attack got back: every cell of every result, in its binary wire
/// form (so a UUID, a hash or an integer is found whatever it was cast to or nested in), and the
/// text of every error (message, detail, hint).
struct SecretScanner: Sendable {
    let secrets: [InjectionSecret]

    /// A scanner for one attack: secrets the attack typed itself (`typed`, its SQL text) are echoes, not leaks.
    init(secrets: [InjectionSecret], typed: String) {
        let typed = typed.lowercased()
        self.secrets = secrets.filter { secret in !secret.typedForms.contains { typed.contains($0) } }
    }

    /// The secrets one result holds, each with the column it was found in.
    func scan(_ rows: PostgresRows) -> [(secret: InjectionSecret, column: String)] {
        var found: [(InjectionSecret, String)] = []
        var seen = Set<InjectionSecret>()
        for row in rows {
            for (index, column) in rows.columns.enumerated() {
                guard let cell = try? row.decode(RawCell.self, at: index), let bytes = cell.bytes else { continue }
                for secret in scan(bytes) where seen.insert(secret).inserted { found.append((secret, column.name)) }
            }
        }
        return found
    }

    /// The secrets an error's text holds.
    func scan(_ error: any Error) -> [InjectionSecret] {
        scan(Array(Self.text(of: error).utf8))
    }

    /// The secrets a value an attack step handed back holds.
    func scan(text: String) -> [InjectionSecret] {
        scan(Array(text.utf8))
    }

    private func scan(_ haystack: [UInt8]) -> [InjectionSecret] {
        let folded = haystack.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        return secrets.filter { secret in
            secret.forms.contains { form in Self.contains(form.foldsCase ? folded : haystack, form.bytes) }
        }
    }

    /// Everything an error says, detail and hint included (what an application might pass on).
    static func text(of error: any Error) -> String {
        if let error = error as? PostgresError {
            return [error.message, error.detail, error.hint, error.detailedDescription].compactMap { $0 }.joined(separator: "\n")
        }
        return "\(error)"
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
