import Foundation

// numeric's binary form: ndigits, weight, sign, dscale (all Int16/UInt16), then ndigits base-10000 digits.
// The value is the sum of digit[i] * 10000^(weight - i).
private let numericPositive: UInt16 = 0x0000
private let numericNegative: UInt16 = 0x4000
private let numericNaN: UInt16 = 0xC000
private let numericPositiveInfinity: UInt16 = 0xD000
private let numericNegativeInfinity: UInt16 = 0xF000
private let posix = Locale(identifier: "en_US_POSIX")

extension Decimal: PostgresCodable {
    public static var postgresType: PostgresType { .numeric }

    public func encode(into buffer: inout [UInt8]) throws {
        if isNaN {
            buffer.appendBigEndian(Int16(0)); buffer.appendBigEndian(Int16(0))
            buffer.appendBigEndian(numericNaN); buffer.appendBigEndian(UInt16(0))
            return
        }
        let text = NSDecimalNumber(decimal: magnitude).description(withLocale: posix)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integerDigits = Array(parts[0].utf8).map { Int16($0 - 48) }
        let fractionDigits = parts.count > 1 ? Array(parts[1].utf8).map { Int16($0 - 48) } : []
        guard (integerDigits + fractionDigits).allSatisfy({ (0...9).contains($0) }) else {
            throw PostgresEncodingError(swiftType: "Decimal", reason: "unexpected decimal text form")
        }
        // Pad both halves to whole base-10000 groups, then fold four decimal digits into each group.
        let integerPadded = [Int16](repeating: 0, count: (4 - integerDigits.count % 4) % 4) + integerDigits
        let fractionPadded = fractionDigits + [Int16](repeating: 0, count: (4 - fractionDigits.count % 4) % 4)
        func groups(_ digits: [Int16]) -> [Int16] {
            stride(from: 0, to: digits.count, by: 4).map { i in
                digits[i] * 1000 + digits[i + 1] * 100 + digits[i + 2] * 10 + digits[i + 3]
            }
        }
        var digits = groups(integerPadded) + groups(fractionPadded)
        var weight = groups(integerPadded).count - 1
        while let first = digits.first, first == 0 { digits.removeFirst(); weight -= 1 }
        while let last = digits.last, last == 0 { digits.removeLast() }
        if digits.isEmpty { weight = 0 }
        buffer.appendBigEndian(Int16(digits.count))
        buffer.appendBigEndian(Int16(weight))
        buffer.appendBigEndian(self < 0 ? numericNegative : numericPositive)
        buffer.appendBigEndian(UInt16(fractionDigits.count))
        for digit in digits { buffer.appendBigEndian(digit) }
    }

    public static func decode(from bytes: PostgresBytes?, type: PostgresType) throws -> Decimal {
        guard let bytes else { throw PostgresDecodingFailure.unexpectedNull }
        switch type {
        case .int2, .int4, .int8:
            return Decimal(try Int64.decode(from: bytes, type: type))
        case .numeric:
            break
        default:
            throw PostgresDecodingFailure.unsupported(type)
        }
        guard bytes.count >= 8 else { throw PostgresDecodingFailure("numeric value is truncated") }
        let count = Int(bytes.integer(at: 0, as: Int16.self))
        let weight = Int(bytes.integer(at: 2, as: Int16.self))
        let sign = bytes.integer(at: 4, as: UInt16.self)
        let scale = Int(bytes.integer(at: 6, as: UInt16.self))
        guard bytes.count == 8 + 2 * count else { throw PostgresDecodingFailure("numeric value has a bad length") }
        switch sign {
        case numericNaN: return .nan
        case numericPositiveInfinity, numericNegativeInfinity:
            throw PostgresDecodingFailure("numeric infinity has no Decimal representation")
        default: break
        }
        // Build the exact decimal text, then let Decimal parse it (it keeps 38 significant digits).
        func group(_ i: Int) -> Int { i < count ? Int(bytes.integer(at: 8 + 2 * i, as: Int16.self)) : 0 }
        var integerPart = ""
        if weight >= 0 {
            integerPart = String(group(0))
            if weight >= 1 { for i in 1...weight { integerPart += padded(group(i)) } }
        } else {
            integerPart = "0"
        }
        var fractionPart = ""
        if weight < -1 { fractionPart = String(repeating: "0000", count: -weight - 1) }
        var i = max(weight + 1, 0)
        while fractionPart.count < scale { fractionPart += padded(group(i)); i += 1 }
        fractionPart = String(fractionPart.prefix(scale))
        let text = (sign == numericNegative ? "-" : "") + integerPart + (fractionPart.isEmpty ? "" : "." + fractionPart)
        guard let value = Decimal(string: text, locale: posix) else {
            throw PostgresDecodingFailure("numeric value does not fit in Decimal")
        }
        return value
    }
}

private func padded(_ group: Int) -> String {
    let s = String(group)
    return String(repeating: "0", count: 4 - s.count) + s
}
