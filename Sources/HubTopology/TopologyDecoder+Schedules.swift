import HubCore

extension TopologyDecoder {
    static let scheduleKeys = ["every", "jitter", "max_backoff"]
    static let webhookKeys = ["style", "secrets", "debounce", "tolerance"]
    static let captureKeys = ["notify", "debounce"]

    /// `"schedule": {"every": "5m", "jitter": "10%", "max_backoff": "1h"}`.
    func decodeSchedule(_ node: Node) -> Schedule? {
        guard let s = node.object("an object like {\"every\": \"5m\"}") else { return nil }
        node.rejectUnknownKeys(s, allowed: Self.scheduleKeys)
        guard let everyNode = node.require(s, "every", "how often to read, like \"30s\", \"5m\" or \"1h\""),
            let every = duration(everyNode)
        else { return nil }
        if every < 1 { everyNode.report("a schedule runs at most once a second; write at least \"1s\"") }
        var jitter = 0.1
        if let j = s["jitter"] {
            if let text = j.value.stringValue, text.hasSuffix("%"), let percent = Double(text.dropLast()),
                (0...50).contains(percent)
            {
                jitter = percent / 100
            } else if case .double(let d) = j.value, (0...0.5).contains(d) {
                jitter = d
            } else if case .int(let i) = j.value, i == 0 {
                jitter = 0
            } else {
                j.report("expected a share of the interval from \"0%\" to \"50%\" (or 0 to 0.5)")
            }
        }
        let maxBackoff = s["max_backoff"].flatMap { duration($0) }
        if let maxBackoff, maxBackoff < every {
            s["max_backoff"]?.report("max_backoff must be at least as long as 'every'")
        }
        return Schedule(every: every, jitter: jitter, maxBackoff: maxBackoff)
    }

    /// `"webhook": {"secrets": ["${CRM_WEBHOOK_SECRET}"], "style": "standard", "debounce": "200ms"}`.
    func decodeWebhook(_ node: Node) -> WebhookSettings? {
        guard let w = node.object("an object like {\"secrets\": [\"${HOOK_SECRET}\"]}") else { return nil }
        node.rejectUnknownKeys(w, allowed: Self.webhookKeys)
        let style = w["style"].flatMap { $0.enumeration(WebhookSettings.Style.self, what: "webhook style") } ?? .standard
        var secrets: [String] = []
        if let secretsNode = node.require(w, "secrets", "the signing secrets, as [\"${ENV_VAR}\"]"),
            let items = secretsNode.array("an array of \"${ENV_VAR}\" references")
        {
            if items.isEmpty { secretsNode.report("name at least one secret, as [\"${ENV_VAR}\"]") }
            for item in items {
                guard let text = item.string("a \"${ENV_VAR}\" reference") else { continue }
                // A secret written into the file would end up in version control.
                guard text.hasPrefix("${"), text.hasSuffix("}") else {
                    item.report("a webhook secret must come from the environment: write \"${NAME}\" and export NAME")
                    continue
                }
                let value = expand(text, node: item, key: "secret")
                // Standard Webhooks secrets are written `whsec_<base64>`; the key is the decoded part.
                if !value.isEmpty { secrets.append(value) }
            }
        }
        let debounce = w["debounce"].flatMap { duration($0) } ?? 0.2
        let tolerance = w["tolerance"].flatMap { duration($0) } ?? 300
        return WebhookSettings(style: style, secrets: secrets, debounce: debounce, tolerance: tolerance)
    }

    /// `"capture": {"notify": true, "debounce": "100ms"}` (postgres systems that pull only).
    func decodeCapture(_ node: Node, adapter: AdapterKind?, direction: Direction) -> CaptureSettings? {
        guard let c = node.object("an object like {\"notify\": true}") else { return nil }
        node.rejectUnknownKeys(c, allowed: Self.captureKeys)
        if let adapter, adapter != .postgres {
            node.report("change capture is for postgres systems; for a \(adapter.rawValue) system, use a webhook or the schedule")
            return nil
        }
        if !direction.pulls {
            node.report("this system is only written to (direction push), so there are no changes to capture; remove 'capture'")
            return nil
        }
        let notify = c["notify"].flatMap { $0.bool() } ?? false
        let debounce = c["debounce"].flatMap { duration($0) } ?? 0.1
        return CaptureSettings(notify: notify, debounce: debounce)
    }

    /// A duration written as `"30s"` or a number of seconds.
    func duration(_ node: Node) -> Double? {
        switch node.value {
        case .int(let i) where i >= 0: return Double(i)
        case .double(let d) where d >= 0 && d.isFinite: return d
        case .string(let s):
            if let seconds = DurationText.seconds(s) { return seconds }
        default: break
        }
        node.report("expected a duration like \"250ms\", \"30s\", \"5m\", \"1h\" or \"1d\"")
        return nil
    }
}
