extension Dictionary where Key == String, Value == HubCore.Value {
    /// This JSON document with an update applied the way hubctl means it: every mapped field
    /// path in `update` (as listed in `paths`, dotted for nested fields) replaces that field's
    /// value whole — a JSON object field is replaced, never merged — while objects that only
    /// lead to a mapped path (`contact` for `contact.email`) keep their other keys.
    ///
    /// For example, with paths `["prefs", "contact.email"]`, applying
    /// `{"prefs": {"sms": false}, "contact": {"email": "a@b.c"}}` to
    /// `{"prefs": {"newsletter": true}, "contact": {"email": "x@y.z", "phone": "1"}}` gives
    /// `{"prefs": {"sms": false}, "contact": {"email": "a@b.c", "phone": "1"}}`.
    public func applyingUpdate(_ update: [String: HubCore.Value], paths: [String]) -> [String: HubCore.Value] {
        applyingUpdate(update, paths: Set(paths), prefix: "")
    }

    private func applyingUpdate(_ update: [String: HubCore.Value], paths: Set<String>, prefix: String) -> [String: HubCore.Value] {
        var out = self
        for (key, value) in update {
            let path = prefix.isEmpty ? key : prefix + "." + key
            let leadsFurther = paths.contains { $0.hasPrefix(path + ".") }
            if !paths.contains(path), leadsFurther, case .object(let inner) = value {
                let existing: [String: HubCore.Value]
                if case .object(let e)? = out[key] { existing = e } else { existing = [:] }
                out[key] = .object(existing.applyingUpdate(inner, paths: paths, prefix: path))
            } else {
                out[key] = value
            }
        }
        return out
    }
}
