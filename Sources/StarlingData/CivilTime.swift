/// Calendar arithmetic for the date fields of datasets, in UTC, without Foundation's formatters
/// (which are slow and locale-dependent).
enum CivilTime {
    /// Unix seconds of a UTC date and time (proleptic Gregorian; Hinnant's days-from-civil).
    static func unixSeconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    static let monthNames: [String] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `01-Jan-1995` (MovieLens 100K release dates) as Unix seconds at midnight UTC.
    static func movieLensDate(_ text: String) -> Int64? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let day = Int(parts[0]), let year = Int(parts[2]),
              let month = monthNames.firstIndex(of: parts[1].lowercased()), (1...31).contains(day) else { return nil }
        return unixSeconds(year: year, month: month + 1, day: day)
    }

    /// The year in a MovieLens title's trailing `(1995)`, if there is one.
    static func yearInTitle(_ title: String) -> Int? {
        let t = title.utf8
        guard t.count >= 6 else { return nil }
        var trimmed = Substring(title)
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        guard trimmed.hasSuffix(")") else { return nil }
        let inner = trimmed.dropLast()
        guard let open = inner.lastIndex(of: "(") else { return nil }
        let digits = inner[inner.index(after: open)...]
        guard digits.count == 4, let y = Int(digits) else { return nil }
        return y
    }

    /// ISO 8601 `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM[:SS[.fff]]` and `Z` or
    /// `±HH:MM` / `±HHMM`, as Unix seconds (fractions dropped); `nil` if it is not of that form.
    static func iso8601(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var k = 0
        let n = b.count
        func number(_ digits: Int) -> Int? {
            guard k + digits <= n else { return nil }
            var v = 0
            for _ in 0..<digits {
                let d = Int(b[k]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                v = v * 10 + d
                k += 1
            }
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard k < n && b[k] == c else { return false }
            k += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0
        if k < n && (b[k] == 84 || b[k] == 32) {
            k += 1
            guard let h = number(2), expect(58), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h; minute = m
            if expect(58) {
                guard let s = number(2), s <= 60 else { return nil }
                second = s
                if k < n && (b[k] == 46 || b[k] == 44) {
                    k += 1
                    let start = k
                    while k < n, b[k] >= 48, b[k] <= 57 { k += 1 }
                    guard k > start else { return nil }
                }
            }
        }
        var offset = 0
        if k < n {
            if b[k] == 90 || b[k] == 122 { k += 1 } else if b[k] == 43 || b[k] == 45 {
                let sign = b[k] == 45 ? -1 : 1
                k += 1
                guard let oh = number(2) else { return nil }
                _ = expect(58)
                guard let om = number(2) else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            } else { return nil }
        }
        guard k == n else { return nil }
        return unixSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second) - Int64(offset)
    }
}
