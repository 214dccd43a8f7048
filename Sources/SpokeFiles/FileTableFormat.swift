import HubCore

/// A text format that holds one record per row: what ``FileTableStore`` needs to read a file
/// of that format and to rewrite it.
///
/// CSV (``CSVFormat``) and JSON Lines (``JSONLFormat``) implement it; everything else (pages,
/// cursors, ID scans, atomic rewrites) is shared.
protocol FileTableFormat: Sendable {
    /// What applies to the whole file: the CSV header, nothing for JSON Lines.
    associatedtype Layout: Sendable
    /// One parsed row.
    associatedtype Row

    /// How record fields are addressed: true when dotted paths reach into nested objects.
    var nestedPaths: Bool { get }

    /// Reads the layout at the start of the file (after any byte order mark); nil when the file
    /// holds nothing.
    func readLayout(_ reader: inout ByteReader) throws -> Layout?

    /// The layout of a file the first push creates.
    func newLayout(for binding: ObjectBinding) -> Layout

    /// Reads the next row, or returns nil at the end of the file.
    func readRow(_ reader: inout ByteReader, layout: Layout) throws -> Row?

    /// True for a row without data (an empty line), which reads skip and rewrites keep.
    func isBlank(_ row: Row) -> Bool

    /// What is wrong with a row that cannot be read (a line that is not JSON, more cells than
    /// the header), or nil. Reads report such rows and go on; rewrites keep them as they are.
    func problem(of row: Row) -> String?

    /// The row's fields, keyed by field name.
    func fields(of row: Row, layout: Layout) -> [String: Value]

    /// One field of the row (for IDs and cursors), or nil when it is absent.
    func value(of row: Row, field: String, layout: Layout) -> Value?

    /// Adds to the layout what writes of `fieldNames` need; returns true when it changed.
    func grow(_ layout: inout Layout, for fieldNames: [String]) -> Bool

    /// A new row holding `fields`.
    func makeRow(_ fields: [String: Value], layout: Layout) -> Row

    /// Applies a partial update to a row, leaving `idField` as it was.
    func update(_ row: inout Row, with fields: [String: Value], idField: String, layout: Layout)

    /// Appends the row's text, without a line end.
    func encode(_ row: Row, layout: Layout, to out: inout [UInt8])

    /// Appends the layout's text and returns true, or returns false when the format has none.
    func encodeLayout(_ layout: Layout, to out: inout [UInt8]) -> Bool

    /// Problems with a layout for `binding` that `check` reports (such as a missing ID column).
    func problems(_ layout: Layout, binding: ObjectBinding, hasRows: Bool) -> [String]

    /// The fields a page of the file shows, for schema drift detection: the header's columns,
    /// or the fields of the page's records (`fromSample`).
    func schema(_ layout: Layout, records: [SpokeRecord], binding: ObjectBinding) -> DiscoveredObject
}
