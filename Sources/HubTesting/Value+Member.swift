import HubCore

extension Value {
    /// The member `key` of an object (nil for anything else), so tests can read JSON output
    /// as `document["result"]?["healthy"]`.
    public subscript(key: String) -> Value? { objectValue?[key] }
}
