import Foundation

/// Where the engine gets the current time. Injected so tests are reproducible.
public struct WallClock: Sendable {
    private let source: @Sendable () -> Date
    public init(_ source: @escaping @Sendable () -> Date) { self.source = source }
    /// The current time.
    public func now() -> Date { source() }
    /// The real system clock.
    public static let system = WallClock { Date() }
    /// A clock frozen at `date`.
    public static func fixed(_ date: Date) -> WallClock { WallClock { date } }
    /// The current time in whole microseconds since 1970 (how ``KeysetRun`` keeps times).
    public var microseconds: Int64 { Int64((now().timeIntervalSince1970 * 1_000_000).rounded()) }
}

/// Formats and parses the hub's timestamps: RFC 3339 in UTC with milliseconds.
public enum Timestamp {
    /// `2026-11-27T05:15:16.123Z`.
    public static func string(_ date: Date) -> String {
        // `Date` counts from 2001, so a time given to the millisecond can come back a hair
        // below it (…122.9999 for .123): round to whole microseconds before cutting.
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let ms = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = ms - seconds * 1000
        let civil = CivilTime(unixSeconds: seconds)
        return civil.rfc3339(millis: Int(millis))
    }
}

/// Calendar arithmetic on the proleptic Gregorian calendar in UTC, without Foundation's
/// `Calendar` (slow, and locale-dependent in places).
public struct CivilTime: Sendable, Hashable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second
    }

    /// Converts Unix seconds (UTC) to civil time.
    public init(unixSeconds: Int64) {
        var days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secs = Int(unixSeconds - days * 86_400)
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.init(year: Int(y), month: Int(m), day: Int(d), hour: secs / 3600, minute: (secs % 3600) / 60,
                  second: secs % 60)
    }

    /// Days since 1970-01-01 for a civil date.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Unix seconds (UTC) of this civil time.
    public var unixSeconds: Int64 {
        Self.daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// True when the day exists in its month.
    public static func isValidDate(year: Int, month: Int, day: Int) -> Bool {
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v.magnitude)
        let digits = s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        return v < 0 ? "-" + digits : digits
    }

    /// `YYYY-MM-DD`.
    public var dateString: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    /// `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
    public func rfc3339(millis: Int? = nil) -> String {
        var s = "\(dateString)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if let millis { s += "." + pad(millis, 3) }
        return s + "Z"
    }
}
