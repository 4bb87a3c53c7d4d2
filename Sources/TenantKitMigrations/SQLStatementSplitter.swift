/// One top-level statement of a migration file.
struct SQLStatement: Sendable, Equatable {
    /// The statement's text, without the terminating `;`, comments and surrounding space kept.
    let text: String
    /// 1-based line of the statement's first token in the file.
    let line: Int
    /// How many Unicode scalars of the file precede the statement's text (PostgreSQL counts
    /// error positions in characters, which are scalars).
    let scalarOffset: Int
    /// The first keywords of the statement, uppercased (`["CREATE", "INDEX"]`), comments skipped.
    let leadingWords: [String]
}

/// Splits SQL text into top-level statements the way psql does: `;` ends a statement unless it is
/// inside a string, quoted identifier, dollar quote, comment, parentheses or a `BEGIN ATOMIC` body.
///
/// Used to check files before anything runs (one statement in a no-transaction file, no
/// transaction control in the others) and to find the line of a runtime error the server reported
/// without a position. Files are still sent whole; a mistake here never changes what runs.
enum SQLStatementSplitter {
    static func split(_ sql: String) -> [SQLStatement] {
        let scalars = Array(sql.unicodeScalars)
        var statements: [SQLStatement] = []
        var i = 0
        var line = 1
        var start: Int?  // scalar index of the current statement's first token
        var startLine = 1
        var depth = 0
        var atomicDepth = 0  // > 0 inside BEGIN ATOMIC ... END
        var words: [String] = []
        var previousWord = ""

        func isIdentifierScalar(_ s: Unicode.Scalar) -> Bool {
            s == "_" || s == "$" || s.properties.isAlphabetic || ("0"..."9").contains(s)
        }
        func markStart() {
            if start == nil { start = i; startLine = line }
        }
        func finish(at end: Int) {
            if let begin = start {
                let text = String(String.UnicodeScalarView(scalars[begin..<end]))
                statements.append(SQLStatement(text: text, line: startLine, scalarOffset: begin, leadingWords: words))
            }
            start = nil
            words = []
            previousWord = ""
            depth = 0
            atomicDepth = 0
        }
        /// Advances past `count` scalars, counting newlines.
        func advance(_ count: Int = 1) {
            for _ in 0..<count where i < scalars.count {
                if scalars[i] == "\n" { line += 1 }
                i += 1
            }
        }

        while i < scalars.count {
            let c = scalars[i]
            let next: Unicode.Scalar? = i + 1 < scalars.count ? scalars[i + 1] : nil
            if c == "-" && next == "-" {
                while i < scalars.count && scalars[i] != "\n" { advance() }
            } else if c == "/" && next == "*" {
                var nesting = 0
                repeat {
                    if scalars[i] == "/" && i + 1 < scalars.count && scalars[i + 1] == "*" { nesting += 1; advance(2) }
                    else if scalars[i] == "*" && i + 1 < scalars.count && scalars[i + 1] == "/" { nesting -= 1; advance(2) }
                    else { advance() }
                } while nesting > 0 && i < scalars.count
            } else if c == "'" || c == "\"" {
                markStart()
                // E'...' strings use backslash escapes; the E is the previous word.
                let backslashEscapes = c == "'" && (previousWord == "E" && i > 0 && (scalars[i - 1] == "E" || scalars[i - 1] == "e"))
                advance()
                while i < scalars.count {
                    if backslashEscapes && scalars[i] == "\\" { advance(2); continue }
                    if scalars[i] == c {
                        if i + 1 < scalars.count && scalars[i + 1] == c { advance(2); continue }
                        advance()
                        break
                    }
                    advance()
                }
                previousWord = ""
            } else if c == "$", let tagEnd = dollarTagEnd(scalars, from: i) {
                markStart()
                let tag = Array(scalars[i...tagEnd])
                advance(tag.count)
                while i < scalars.count {
                    if scalars[i] == "$" && i + tag.count <= scalars.count && Array(scalars[i..<i + tag.count]) == tag {
                        advance(tag.count)
                        break
                    }
                    advance()
                }
                previousWord = ""
            } else if c == ";" && depth == 0 && atomicDepth == 0 {
                finish(at: i)
                advance()
            } else if isIdentifierScalar(c) && c != "$" {
                markStart()
                let begin = i
                while i < scalars.count && isIdentifierScalar(scalars[i]) { advance() }
                let word = String(String.UnicodeScalarView(scalars[begin..<i])).uppercased()
                if words.count < 3 { words.append(word) }
                if atomicDepth > 0 {
                    if word == "CASE" { atomicDepth += 1 } else if word == "END" { atomicDepth -= 1 }
                } else if word == "ATOMIC" && previousWord == "BEGIN" {
                    atomicDepth = 1
                }
                previousWord = word
            } else {
                if !c.properties.isWhitespace { markStart() }
                if c == "(" { depth += 1 } else if c == ")" { depth = max(0, depth - 1) }
                if !c.properties.isWhitespace { previousWord = "" }
                advance()
            }
        }
        finish(at: scalars.count)
        return statements
    }

    /// The index of the closing `$` of a dollar-quote tag starting at `i` (`$$` or `$tag$`), or nil
    /// when the `$` starts something else (a `$1` parameter, or part of an identifier).
    private static func dollarTagEnd(_ scalars: [Unicode.Scalar], from i: Int) -> Int? {
        if i > 0 {
            let before = scalars[i - 1]
            if before == "_" || before.properties.isAlphabetic || ("0"..."9").contains(before) { return nil }
        }
        var j = i + 1
        guard j < scalars.count else { return nil }
        if ("0"..."9").contains(scalars[j]) { return nil }
        while j < scalars.count {
            let s = scalars[j]
            if s == "$" { return j }
            guard s == "_" || s.properties.isAlphabetic || ("0"..."9").contains(s) else { return nil }
            j += 1
        }
        return nil
    }

    /// 1-based line and column of the 1-based character `position` in `text`.
    static func lineAndColumn(ofPosition position: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var count = 1
        for scalar in text.unicodeScalars {
            if count >= position { break }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            count += 1
        }
        return (line, column)
    }
}
