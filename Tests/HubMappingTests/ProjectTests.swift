import HubCore
import HubMapping
import HubTopology
import Testing

/// `project(x)` is what a system shows after hubctl writes `x` to it. Link bases are made of it,
/// so it must be a fixed point — `project(project(x)) == project(x)` — or every run would see
/// its own write as a change and write again (echo).
@Suite struct ProjectTests {
    static let entity = #"""
        "email": {"type": "string", "normalize": ["trim", "lowercase"]},
        "first_name": {"type": "string", "normalize": "collapse_spaces"}, "last_name": "string", "full_name": "string",
        "country": {"type": "string", "normalize": "lowercase"}, "region": {"type": "string", "normalize": ["trim", "empty_to_null"]},
        "age": "integer", "score": "number", "vip": "boolean", "active": "boolean",
        "born": "date", "updated": "datetime", "seen": "datetime", "created": "datetime", "tags": "json", "meta": "json",
        "phone": {"type": "string", "normalize": "digits"}, "code": "string", "rep": {"type": "ref", "entity": "employee"}
        """#

    /// Every mapping form at once: rename, nested path, value map, conversions with `type`,
    /// date formats, default, per-field direction, normalisation, composite, json, ref.
    static let forms: [(name: String, fields: String)] = [
        ("left split, nested paths", #"""
            "email": "properties.email",
            "first_name": {"field": "name", "parts": ["first_name", "last_name"]},
            "full_name": {"field": "country_code", "direction": "pull"},
            "country": {"field": "country_code", "values": {"Germany": "DE", "Brazil": "BR", "Unknown": "??"}, "default": "Unknown"},
            "region": {"field": "properties.region", "default": "none", "normalize": "uppercase"},
            "age": {"field": "age", "type": "string"},
            "score": {"field": "score", "type": "string"},
            "vip": {"field": "vip", "type": "integer"},
            "active": {"field": "active", "values": {"true": "Y", "false": "N"}},
            "born": {"field": "dob", "format": "DD/MM/YYYY"},
            "updated": {"field": "updated_at", "format": "unix_ms"},
            "seen": {"field": "seen", "format": "unix", "direction": "push"},
            "created": {"field": "created", "format": "YYYY-MM-DD HH:mm:ss"},
            "tags": {"field": "tags", "type": "json"},
            "meta": "meta.data",
            "phone": {"field": "tel", "normalize": "trim"},
            "code": {"field": "code", "type": "integer"},
            "rep": "owner_id"
            """#),
        ("right split, flat", #"""
            "email": {"field": "Email", "normalize": "trim"},
            "last_name": {"field": "Name", "parts": ["first_name", "last_name"], "split": "right", "separator": ", "},
            "country": {"field": "Country", "values": {"Germany": 49, "Brazil": 55}},
            "region": {"field": "Region", "normalize": ["trim", "empty_to_null"]},
            "age": {"field": "Age", "type": "number"},
            "score": "Score",
            "vip": {"field": "VIP", "type": "string"},
            "active": {"field": "Active", "type": "boolean"},
            "born": {"field": "Born", "format": "YYYYMMDD", "type": "integer"},
            "updated": "Updated",
            "created": {"field": "Created", "format": "unix", "type": "string"},
            "seen": {"field": "Seen", "direction": "pull"},
            "tags": {"field": "Tags", "type": "string"},
            "phone": "Phone",
            "code": {"field": "Code", "type": "number"},
            "full_name": {"field": "Full", "default": "n/a"}
            """#),
    ]

    /// A value for a field: usually of its type (in the forms hubctl stores, or close to them),
    /// sometimes null or absent, sometimes anything at all.
    static func value(for type: FieldType, _ rng: inout SplitMix64) -> Value? {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return nil
        case 1: return .null
        case 2: return Gen.value(&rng)
        default: break
        }
        func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
        switch type {
        case .string, .ref:
            return .string(pick([Gen.string(&rng), pick(["Germany", "germany", "Brazil", "DE", "??", "Unknown", "Mary Ann Smith", "Smith, John",
                                                         " a@B.org ", "+49 30 1234", "Y", "N", "007", "1.50", ""])]))
        case .integer: return .int(pick([Int64.random(in: -99999...99999, using: &rng), 0, 1]))
        case .number: return .double(pick([Double(Int.random(in: -9999...9999, using: &rng)) / 4, 0, 1e20, 0.1]))
        case .boolean: return .bool(Bool.random(using: &rng))
        case .date:
            let day = Int64.random(in: -800_000...2_900_000, using: &rng)
            return .string(pick([String(CivilTime(unixSeconds: day * 86_400).dateString), "2024-02-29", "2026-02-03T23:30:00-05:00", "31/02/2026"]))
        case .datetime:
            let seconds = Int64.random(in: -70_000_000_000...250_000_000_000, using: &rng)
            let millis = pick([0, Int.random(in: 0...999, using: &rng)])
            return .string(pick([CivilTime(unixSeconds: seconds).rfc3339(millis: millis == 0 ? nil : millis),
                                 "2026-02-03T10:00:00+02:00", "2026-02-03", "2026-02-03 10:11:12.5", "not a date"]))
        case .json: return Gen.value(&rng)
        }
    }

    @Test(arguments: 0..<forms.count)
    func projectionIsAFixedPointForGeneratedRecords(_ form: Int) throws {
        let nested = form == 0
        let m = try mapper(Self.forms[form].fields, entity: Self.entity, nestedPaths: nested, emptyTextReadsAsNull: !nested)
        var rng = SplitMix64(seed: 0xEC40 + UInt64(form))
        for _ in 0..<3000 {
            var record: CanonicalRecord = [:]
            for field in m.entity.fields {
                if let v = Self.value(for: field.type, &rng) { record[field.name.rawValue] = v }
            }
            let once = m.project(record)
            let twice = m.project(once)
            #expect(once == twice, "\(Self.forms[form].name): \(record)\n  once:  \(once)\n  twice: \(twice)")
            #expect(Set(once.keys) == Set(m.mappedFields))
            if once != twice { break }
        }
    }

    @Test func projectionShowsWhatTheSystemWillHold() throws {
        let m = try mapper(Self.forms[0].fields, entity: Self.entity)
        let p = m.project([
            "email": "A@X.org", "first_name": "Mary  Ann", "last_name": "Smith", "country": "Brazil", "age": 7,
            "born": "2026-02-03T23:30:00Z", "updated": "2026-02-03T10:00:00.5+01:00", "seen": "2026-02-03T10:00:00.5Z",
            "created": "2026-02-03T10:00:00.999Z", "code": "007", "phone": "+49 30 1234",
        ])
        #expect(p["email"] == "a@x.org")
        // A composite reads back relative to what was written: the hub's split is kept.
        #expect(p["first_name"] == "Mary Ann")
        #expect(p["last_name"] == "Smith")
        // country_code is written by country and read by full_name too.
        #expect(p["country"] == "brazil")
        #expect(p["full_name"] == "BR")
        #expect(p["region"] == "NONE")
        #expect(p["age"] == 7)
        #expect(p["born"] == "2026-02-03")
        #expect(p["updated"] == "2026-02-03T09:00:00.500Z")
        // Push-only fields are projected too: that is what hubctl wrote.
        #expect(p["seen"] == "2026-02-03T10:00:00.500Z")
        #expect(p["created"] == "2026-02-03T10:00:00Z")
        #expect(p["code"] == "7")
        #expect(p["phone"] == "+49301234")
        #expect(p["vip"] == .null)
    }

    @Test func forCSVLikeSystemsEmptyTextProjectsAsNull() throws {
        let csv = try mapper(#""email": "Email", "full_name": "Name", "age": {"field": "Age", "type": "string"}"#,
                             nestedPaths: false, emptyTextReadsAsNull: true)
        #expect(csv.project(["email": "a@x.org", "full_name": "", "age": 3]) == ["email": "a@x.org", "full_name": .null, "age": 3])
        #expect(try csv.read(["Name": ""])["full_name"] == .null)
        let json = try mapper(#""email": "Email", "full_name": "Name""#)
        #expect(json.project(["full_name": ""])["full_name"] == "")
    }

    @Test func aFieldWhoseOwnOutputDoesNotReadBackKeepsItsValue() throws {
        let m = try mapper(#""email": "mail", "updated": {"field": "u", "format": "unix"}, "age": "age""#)
        let p = m.project(["email": "a@x.org", "updated": "not a date", "age": 3])
        #expect(p == ["email": "a@x.org", "updated": "not a date", "age": 3])
    }
}
