import HubCore

extension CSVSpoke {
    /// A CSV cell cannot tell an empty text from no value.
    public static var traits: AdapterTraits { AdapterTraits(emptyTextReadsAsNull: true) }
}

extension JSONLSpoke {
    /// JSON objects: dotted paths reach into nested objects.
    public static var traits: AdapterTraits { AdapterTraits(nestedPaths: true) }
}
