import HubCore

extension RESTSpoke {
    /// JSON records: dotted paths reach into nested objects.
    public static var traits: AdapterTraits { AdapterTraits(nestedPaths: true) }
}
