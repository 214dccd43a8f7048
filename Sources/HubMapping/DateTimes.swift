import HubCore
import HubTopology

/// Parsing and formatting of the canonical date and date-time forms.
///
/// Canonical forms: a date is `YYYY-MM-DD`; a date-time is `YYYY-MM-DDTHH:MM:SSZ` in UTC, with
/// `.mmm` milliseconds when they are not zero.
public enum DateTimes {
    /// A parsed instant: seconds since 1970 and milliseconds.
    public struct Instant: Sendable, Hashable {
        public var seconds: Int64
        public var millis: Int
    }

    /// Parses RFC 3339 / ISO 8601 and the common SQL form: `2026-11-27`, `2026-11-27T05:15`,
    /// `2026-11-27 05:15:16.5`, `…Z`, `…+02:00`, `…+0200`. No offset means UTC.
    public static func parseISO(_ text: String) -> Instant? {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2),
            CivilTime.isValidDate(year: year, month: month, day: day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0
        var offsetSeconds = 0
        if i < b.count {
            guard b[i] == 84 || b[i] == 116 || b[i] == 32 else { return nil }  // T t space
            i += 1
            guard let h = digits(2), expect(58), let m = digits(2), h < 24, m < 60 else { return nil }
            hour = h; minute = m
            if i < b.count, b[i] == 58 {
                i += 1
                guard let s = digits(2), s < 61 else { return nil }
                second = min(s, 59)
                if i < b.count, b[i] == 46 || b[i] == 44 {  // . or ,
                    i += 1
                    var scale = 100
                    var any = false
                    while i < b.count, b[i] >= 48 && b[i] <= 57 {
                        millis += Int(b[i] - 48) * scale
                        scale /= 10
                        any = true
                        i += 1
                    }
                    guard any else { return nil }
                }
            }
            if i < b.count {
                if b[i] == 90 || b[i] == 122 {  // Z z
                    i += 1
                } else if b[i] == 43 || b[i] == 45 {  // + -
                    let sign = b[i] == 43 ? 1 : -1
                    i += 1
                    guard let oh = digits(2), oh < 24 else { return nil }
                    var om = 0
                    if expect(58) {
                        guard let m = digits(2) else { return nil }
                        om = m
                    } else if i < b.count {
                        guard let m = digits(2) else { return nil }
                        om = m
                    }
                    guard om < 60 else { return nil }
                    offsetSeconds = sign * (oh * 3600 + om * 60)
                } else {
                    return nil
                }
            }
            guard i == b.count else { return nil }
        }
        let civil = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return Instant(seconds: civil.unixSeconds - Int64(offsetSeconds), millis: millis)
    }

    /// The canonical date-time text of an instant.
    public static func canonicalDateTime(_ instant: Instant) -> String {
        CivilTime(unixSeconds: instant.seconds).rfc3339(millis: instant.millis == 0 ? nil : instant.millis)
    }

    /// The canonical date text of an instant (its UTC day).
    public static func canonicalDate(_ instant: Instant) -> String {
        CivilTime(unixSeconds: instant.seconds).dateString
    }

    /// Parses text written with a pattern of `YYYY MM DD HH mm ss SSS` and literal characters.
    public static func parse(_ text: String, pattern: String) -> Instant? {
        let t = Array(text), p = Array(pattern)
        var ti = 0, pi = 0
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0
        func token(_ name: String) -> Bool {
            let n = Array(name)
            guard pi + n.count <= p.count, Array(p[pi..<pi + n.count]) == n else { return false }
            return true
        }
        func number(_ width: Int) -> Int? {
            guard ti + width <= t.count else { return nil }
            var v = 0
            for k in 0..<width {
                guard let d = t[ti + k].wholeNumberValue, t[ti + k].isASCII else { return nil }
                v = v * 10 + d
            }
            ti += width
            return v
        }
        while pi < p.count {
            if token("YYYY") { guard let v = number(4) else { return nil }; year = v; pi += 4 }
            else if token("SSS") { guard let v = number(3) else { return nil }; millis = v; pi += 3 }
            else if token("MM") { guard let v = number(2) else { return nil }; month = v; pi += 2 }
            else if token("DD") { guard let v = number(2) else { return nil }; day = v; pi += 2 }
            else if token("HH") { guard let v = number(2), v < 24 else { return nil }; hour = v; pi += 2 }
            else if token("mm") { guard let v = number(2), v < 60 else { return nil }; minute = v; pi += 2 }
            else if token("ss") { guard let v = number(2), v < 61 else { return nil }; second = min(v, 59); pi += 2 }
            else {
                guard ti < t.count, t[ti] == p[pi] else { return nil }
                ti += 1; pi += 1
            }
        }
        guard ti == t.count, CivilTime.isValidDate(year: year, month: month, day: day) else { return nil }
        let civil = CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return Instant(seconds: civil.unixSeconds, millis: millis)
    }

    /// Formats an instant with a pattern of `YYYY MM DD HH mm ss SSS` and literal characters.
    public static func format(_ instant: Instant, pattern: String) -> String {
        let c = CivilTime(unixSeconds: instant.seconds)
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        var out = ""
        let p = Array(pattern)
        var i = 0
        func at(_ name: String) -> Bool {
            let n = Array(name)
            return i + n.count <= p.count && Array(p[i..<i + n.count]) == n
        }
        while i < p.count {
            if at("YYYY") { out += pad(c.year, 4); i += 4 }
            else if at("SSS") { out += pad(instant.millis, 3); i += 3 }
            else if at("MM") { out += pad(c.month, 2); i += 2 }
            else if at("DD") { out += pad(c.day, 2); i += 2 }
            else if at("HH") { out += pad(c.hour, 2); i += 2 }
            else if at("mm") { out += pad(c.minute, 2); i += 2 }
            else if at("ss") { out += pad(c.second, 2); i += 2 }
            else { out.append(p[i]); i += 1 }
        }
        return out
    }
}
