import HubCore

extension Spoke {
    /// Reads one whole run, page by page, from `cursor`, as the engine does: the IDs read, in
    /// order, and the cursor the next run starts from.
    public func readRun(_ binding: ObjectBinding, from cursor: Cursor?, limit: Int = 500) async throws
        -> (ids: [String], next: Cursor?)
    {
        var ids: [String] = []
        var cursor = cursor
        while true {
            let page = try await read(binding, after: cursor, limit: limit)
            ids += page.records.map(\.id.rawValue)
            cursor = page.next
            if page.isLast { return (ids, cursor) }
        }
    }
}
