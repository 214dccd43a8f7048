import HubCore

extension ExternalID {
    /// True when the ID holds NUL (U+0000), which no hub can keep: PostgreSQL text cannot hold
    /// it, and SQLite's C interface cuts text at it (the link would be saved under a shorter ID).
    var holdsNUL: Bool { rawValue.utf8.contains(0) }

    /// The ID for messages, each NUL written `\0`.
    var showingNUL: String { rawValue.replacingOccurrences(of: "\u{0}", with: "\\0") }
}

extension SpokePage {
    /// The page with every record whose ID holds NUL moved to ``invalid`` (quarantined as
    /// malformed while the rest of the page merges), and such IDs dropped from its deletes (no
    /// link can have one).
    func quarantiningIDsHoldingNUL() -> SpokePage {
        guard records.contains(where: \.id.holdsNUL) || deleted.contains(where: \.holdsNUL) else { return self }
        var page = self
        page.invalid += records.filter(\.id.holdsNUL).map {
            InvalidRecord(id: nil, pointer: "id \($0.id.showingNUL)",
                          message: "the ID holds NUL (U+0000), which the hub cannot store; remove the NUL from the ID at its source")
        }
        page.records.removeAll(where: \.id.holdsNUL)
        page.deleted.removeAll(where: \.holdsNUL)
        return page
    }
}
