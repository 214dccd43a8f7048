/// How an adapter's records behave, declared by the adapter itself so that the engine, audits,
/// stewardship, `check` and `discover` all map its records alike.
public struct AdapterTraits: Sendable, Hashable {
    /// Records are JSON documents: dotted field paths address nested objects.
    public var nestedPaths: Bool
    /// The system cannot hold an empty text apart from no value (a CSV cell): empty text reads,
    /// and projects, as null.
    public var emptyTextReadsAsNull: Bool

    public init(nestedPaths: Bool = false, emptyTextReadsAsNull: Bool = false) {
        self.nestedPaths = nestedPaths
        self.emptyTextReadsAsNull = emptyTextReadsAsNull
    }
}
