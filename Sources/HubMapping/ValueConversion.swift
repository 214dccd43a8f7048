import HubCore
import HubTopology

/// Conversions between the values systems hold and the canonical types.
///
/// Messages never contain the value itself: synced records are often personal data.
public enum ValueConversion {
    /// Converts a system's value to the canonical `type`.
    /// - Returns: the canonical value, or a message saying why it cannot be converted.
    public static func toCanonical(_ value: Value, type: FieldType, format: DateFormat?) -> Result<Value, ConversionFailure> {
        if value.isNull { return .success(.null) }
        switch type {
        case .string:
            switch value {
            case .string: return .success(value)
            case .int(let i): return .success(.string(String(i)))
            case .double(let d): return .success(.string(numberText(d)))
            case .bool(let b): return .success(.string(b ? "true" : "false"))
            default: return .failure(.init("\(describe(value)) cannot be read as string"))
            }
        case .ref:
            switch value {
            case .string(let s): return s.trimmingWhitespace().isEmpty ? .success(.null) : .success(value)
            case .int(let i): return .success(.string(String(i)))
            case .double(let d) where d == d.rounded() && abs(d) < 9e15: return .success(.string(String(Int64(d))))
            default: return .failure(.init("\(describe(value)) cannot be read as a record ID"))
            }
        case .integer:
            switch value {
            case .int: return .success(value)
            case .double(let d):
                guard d == d.rounded() else { return .failure(.init("a number with a fraction cannot be read as integer")) }
                guard abs(d) < 9.2e18 else { return .failure(.init("a number this large cannot be read as integer")) }
                return .success(.int(Int64(d)))
            case .bool(let b): return .success(.int(b ? 1 : 0))
            case .string(let s):
                let t = s.trimmingWhitespace()
                if t.isEmpty { return .success(.null) }
                if let i = Int64(t) { return .success(.int(i)) }
                if isDecimalText(t), let d = Double(t), d == d.rounded(), abs(d) < 9.2e18 { return .success(.int(Int64(d))) }
                return .failure(.init("text that is not a whole number cannot be read as integer"))
            default: return .failure(.init("\(describe(value)) cannot be read as integer"))
            }
        case .number:
            switch value {
            case .int(let i): return .success(.double(Double(i)))
            case .double: return .success(value)
            case .bool(let b): return .success(.double(b ? 1 : 0))
            case .string(let s):
                let t = s.trimmingWhitespace()
                if t.isEmpty { return .success(.null) }
                if isDecimalText(t), let d = Double(t), d.isFinite { return .success(.double(d)) }
                return .failure(.init("text that is not a number cannot be read as number"))
            default: return .failure(.init("\(describe(value)) cannot be read as number"))
            }
        case .boolean:
            switch value {
            case .bool: return .success(value)
            case .int(let i) where i == 0 || i == 1: return .success(.bool(i == 1))
            case .double(let d) where d == 0 || d == 1: return .success(.bool(d == 1))
            case .int, .double: return .failure(.init("a number other than 0 or 1 cannot be read as boolean"))
            case .string(let s):
                switch s.trimmingWhitespace().lowercased() {
                case "true", "t", "yes", "y", "1", "on": return .success(.bool(true))
                case "false", "f", "no", "n", "0", "off": return .success(.bool(false))
                case "": return .success(.null)
                default: return .failure(.init("text other than true/false/yes/no/1/0 cannot be read as boolean"))
                }
            default: return .failure(.init("\(describe(value)) cannot be read as boolean"))
            }
        case .date, .datetime:
            guard let instant = readInstant(value, format: format) else {
                if case .string(let s) = value, s.trimmingWhitespace().isEmpty { return .success(.null) }
                return .failure(.init("the value is not a \(type == .date ? "date" : "date-time") in the expected format (\(formatName(format)))"))
            }
            return .success(.string(type == .date ? DateTimes.canonicalDate(instant) : DateTimes.canonicalDateTime(instant)))
        case .json:
            if case .string(let s) = value {
                // A text column holding JSON; blank text is no value.
                if s.trimmingWhitespace().isEmpty { return .success(.null) }
                if let parsed = try? JSONParser.parse(s) { return .success(parsed) }
                return .success(value)
            }
            return .success(value)
        }
    }

    /// Converts a canonical value to what the system stores.
    public static func toSystem(_ value: Value, type: FieldType, systemType: SystemValueType?, format: DateFormat?) -> Value {
        if value.isNull { return .null }
        var v = value
        if type == .date || type == .datetime, let format, format != .iso8601, case .string(let s) = value,
            let instant = DateTimes.parseISO(s)
        {
            switch format {
            case .unixSeconds:
                // Whole seconds as an integer; a fraction only when there are milliseconds.
                v = instant.millis == 0 ? .int(instant.seconds) : .double(Double(instant.seconds) + Double(instant.millis) / 1000)
            case .unixMilliseconds: v = .int(instant.seconds * 1000 + Int64(instant.millis))
            case .pattern(let p): v = .string(DateTimes.format(instant, pattern: p))
            case .iso8601: break
            }
        }
        guard let systemType else { return v }
        switch systemType {
        case .string:
            switch v {
            case .string: return v
            case .int(let i): return .string(String(i))
            case .double(let d): return .string(numberText(d))
            case .bool(let b): return .string(b ? "true" : "false")
            default: return .string(v.json)
            }
        case .integer:
            switch v {
            case .bool(let b): return .int(b ? 1 : 0)
            case .double(let d) where d == d.rounded() && abs(d) < 9.2e18: return .int(Int64(d))
            case .string(let s): return Int64(s).map(Value.int) ?? v
            default: return v
            }
        case .number:
            switch v {
            case .int(let i): return .double(Double(i))
            case .bool(let b): return .double(b ? 1 : 0)
            case .string(let s): return isDecimalText(s) ? Double(s).flatMap { $0.isFinite ? .double($0) : nil } ?? v : v
            default: return v
            }
        case .boolean:
            switch v {
            case .int(let i): return .bool(i != 0)
            case .string(let s): return .bool(["true", "t", "yes", "y", "1", "on"].contains(s.trimmingWhitespace().lowercased()))
            default: return v
            }
        case .json:
            switch v {
            case .object, .array: return .string(v.json)
            default: return v
            }
        }
    }

    /// The earliest and latest instants a canonical date-time can hold: years 0000 to 9999.
    static let instantRange: ClosedRange<Int64> = -62_167_219_200...253_402_300_799

    static func readInstant(_ value: Value, format: DateFormat?) -> DateTimes.Instant? {
        guard let instant = readAnyInstant(value, format: format), instantRange.contains(instant.seconds) else {
            return nil
        }
        return instant
    }

    private static func readAnyInstant(_ value: Value, format: DateFormat?) -> DateTimes.Instant? {
        switch (format ?? .iso8601, value) {
        case (.unixSeconds, .int(let i)): return .init(seconds: i, millis: 0)
        case (.unixSeconds, .double(let d)):
            guard d.isFinite, abs(d) < 1e15 else { return nil }
            let s = d.rounded(.down)
            let millis = Int(((d - s) * 1000).rounded())
            return millis == 1000 ? .init(seconds: Int64(s) + 1, millis: 0) : .init(seconds: Int64(s), millis: millis)
        case (.unixSeconds, .string(let s)):
            let t = s.trimmingWhitespace()
            guard isDecimalText(t) else { return nil }
            return Double(t).flatMap { readAnyInstant(.double($0), format: format) }
        case (.unixMilliseconds, .int(let i)):
            // Floor division without overflow at Int64.min.
            var s = i / 1000, r = i % 1000
            if r < 0 { s -= 1; r += 1000 }
            return .init(seconds: s, millis: Int(r))
        case (.unixMilliseconds, .double(let d)):
            guard d.isFinite, abs(d) < 1e18 else { return nil }
            return readAnyInstant(.int(Int64(d.rounded(.down))), format: format)
        case (.unixMilliseconds, .string(let s)):
            let t = s.trimmingWhitespace()
            if let i = Int64(t) { return readAnyInstant(.int(i), format: format) }
            guard isDecimalText(t) else { return nil }
            return Double(t).flatMap { readAnyInstant(.double($0), format: format) }
        case (.pattern(let p), .string(let s)):
            let t = s.trimmingWhitespace()
            return DateTimes.parse(t, pattern: p) ?? DateTimes.parseISO(t)
        case (.pattern(let p), .int(let i)):
            // `YYYYMMDD` stored as a number.
            return DateTimes.parse(String(i), pattern: p)
        case (.pattern(let p), .double(let d)) where d == d.rounded() && abs(d) < 1e18:
            // The same number in a REAL column.
            return DateTimes.parse(String(Int64(d)), pattern: p)
        case (.iso8601, .string(let s)): return DateTimes.parseISO(s.trimmingWhitespace())
        default: return nil
        }
    }

    /// True for plain decimal number text (see `String.isPlainDecimalNumber`).
    static func isDecimalText(_ text: String) -> Bool { text.isPlainDecimalNumber }

    /// `a string`, `an integer`, `an object`: a value's type with its article, for messages.
    static func describe(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    static func formatName(_ format: DateFormat?) -> String {
        switch format ?? .iso8601 {
        case .iso8601: return "ISO 8601"
        case .unixSeconds: return "unix seconds"
        case .unixMilliseconds: return "unix milliseconds"
        case .pattern(let p): return p
        }
    }

    /// Shortest text of a number; whole numbers without a fraction.
    public static func numberText(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}

/// Why a value could not be converted. Never contains the value.
public struct ConversionFailure: Error, Sendable, Hashable {
    public var message: String
    /// A quarantine reason other than `unmappable`, when the failure has one of its own.
    public var code: String?
    public init(_ message: String) { self.message = message }
    public init(message: String, code: String) {
        self.message = message
        self.code = code
    }
}
