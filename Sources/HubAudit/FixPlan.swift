import HubCore

/// The repairs an audit would make, as a JSON file a person reviews (and may edit) before
/// `hubctl repair` applies it.
///
/// For example:
/// ```json
/// {"format_version": "1.0", "kind": "hubctl-fix-plan", "topology": "demo", "generated_at": "…",
///  "repairs": [{"action": "repush", "entity": "customer", "system": "crm", "hub_id": "0190…",
///               "external_id": "3", "because": "field_drift"}]}
/// ```
public struct FixPlan: Sendable, Hashable {
    public var topology: String
    public var generatedAt: String
    public var repairs: [Repair]

    public init(topology: String, generatedAt: String, repairs: [Repair]) {
        self.topology = topology
        self.generatedAt = generatedAt
        self.repairs = repairs
    }

    /// The plan as a JSON document.
    public var json: Value {
        .object([
            "format_version": "1.0", "kind": "hubctl-fix-plan", "topology": .string(topology),
            "generated_at": .string(generatedAt),
            "repairs": .array(repairs.map { r in
                var o: [String: Value] = [
                    "action": .string(r.action.rawValue), "entity": .string(r.entity.rawValue),
                    "system": .string(r.system.rawValue), "hub_id": .string(r.hubID.rawValue),
                ]
                if let because = r.because { o["because"] = .string(because.rawValue) }
                if let id = r.externalID { o["external_id"] = .string(id.rawValue) }
                if let from = r.fromHubID { o["from_hub_id"] = .string(from.rawValue) }
                if let mode = r.mode { o["mode"] = .string(mode.rawValue) }
                return .object(o)
            }),
        ])
    }

    /// Reads a plan written by `hubctl audit --fix-plan` (or by hand in the same shape).
    /// - Throws: ``AuditError`` `invalidPlan` naming the first problem and where it is.
    public static func parse(_ text: String) throws -> FixPlan {
        let document: Value
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw AuditError(.invalidPlan, "the fix plan is not valid JSON (\(error))",
                             hint: "write one with `hubctl audit --fix-plan FILE`")
        }
        guard let o = document.objectValue, o["kind"] == "hubctl-fix-plan" else {
            throw AuditError(.invalidPlan, "the file is not a hubctl fix plan (\"kind\": \"hubctl-fix-plan\" is missing)",
                             hint: "write one with `hubctl audit --fix-plan FILE`")
        }
        guard let version = o["format_version"]?.stringValue, version.hasPrefix("1.") else {
            throw AuditError(.invalidPlan, "the fix plan's format_version is not 1.x",
                             hint: "write it again with this version of hubctl: `hubctl audit --fix-plan FILE`")
        }
        guard let items = o["repairs"]?.arrayValue else {
            throw AuditError(.invalidPlan, "the fix plan has no \"repairs\" list")
        }
        var repairs: [Repair] = []
        for (i, item) in items.enumerated() {
            repairs.append(try repair(item, at: "repairs[\(i)]"))
        }
        return FixPlan(topology: o["topology"]?.stringValue ?? "", generatedAt: o["generated_at"]?.stringValue ?? "",
                       repairs: repairs)
    }

    static func repair(_ item: Value, at path: String) throws -> Repair {
        guard let o = item.objectValue else { throw AuditError(.invalidPlan, "\(path): expected an object") }
        func text(_ key: String, required: Bool = true) throws -> String? {
            guard let v = o[key], !v.isNull else {
                if required { throw AuditError(.invalidPlan, "\(path).\(key) is missing") }
                return nil
            }
            guard let s = v.stringValue, !s.isEmpty else { throw AuditError(.invalidPlan, "\(path).\(key): expected text") }
            return s
        }
        func oneOf<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type, required: Bool = true) throws -> E?
        where E.RawValue == String {
            guard let raw = try text(key, required: required) else { return nil }
            guard let value = E(rawValue: raw) else {
                throw AuditError(.invalidPlan, "\(path).\(key): unknown value '\(raw)'; expected one of "
                                 + E.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return value
        }
        let action = try oneOf("action", Repair.Action.self)!
        let repair = Repair(
            action: action, entity: EntityName(try text("entity")!), system: SystemName(try text("system")!),
            hubID: HubID(try text("hub_id")!),
            externalID: try text("external_id", required: action == .link || action == .relink).map(ExternalID.init),
            fromHubID: try text("from_hub_id", required: action == .relink).map(HubID.init),
            mode: try oneOf("mode", Repair.UnlinkMode.self, required: false),
            because: try oneOf("because", AuditCheck.self, required: false))
        return repair
    }
}
