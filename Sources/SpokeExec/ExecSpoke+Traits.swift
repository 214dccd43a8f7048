import HubCore

extension ExecSpoke {
    /// Connectors exchange JSON records: dotted paths reach into nested objects.
    public static var traits: AdapterTraits { AdapterTraits(nestedPaths: true) }
}
