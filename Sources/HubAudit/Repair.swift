import HubCore

/// One repair a finding calls for, as written in a fix plan and applied by `hubctl repair`.
public struct Repair: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        /// Remove a link (`forget`) or close it (`close`: the record and the entity stay, no longer synced).
        case unlink
        /// Link a system's record to a hub entity.
        case link
        /// Move a system's record from one hub entity to another.
        case relink
        /// Make the next `sync-all` send the hub's values to the system again.
        case repush
    }

    /// How an unlink leaves things.
    public enum UnlinkMode: String, Sendable, Hashable, CaseIterable {
        /// Delete the link: the record counts as new at the next read, the entity as missing.
        case forget
        /// Keep the link closed: neither is synced to the other again, nor re-linked by a match.
        case close
    }

    public var action: Action
    public var entity: EntityName
    public var system: SystemName
    /// The entity acted on: the one unlinked, linked to, moved to, or pushed.
    public var hubID: HubID
    public var externalID: ExternalID?
    /// For `relink`: the entity the record is linked to now.
    public var fromHubID: HubID?
    /// For `unlink`.
    public var mode: UnlinkMode?
    /// The check whose finding called for it (nil for a repair written by hand).
    public var because: AuditCheck?

    public init(action: Action, entity: EntityName, system: SystemName, hubID: HubID, externalID: ExternalID? = nil,
                fromHubID: HubID? = nil, mode: UnlinkMode? = nil, because: AuditCheck? = nil) {
        self.action = action
        self.entity = entity
        self.system = system
        self.hubID = hubID
        self.externalID = externalID
        self.fromHubID = fromHubID
        self.mode = mode
        self.because = because
    }

    /// One line for people: `repush customer hub 0190… to crm (record 3)`.
    public var summary: String {
        let id = externalID.map { " \(system) \($0)" } ?? ""
        switch action {
        case .unlink: return "unlink \(entity) hub \(hubID) from\(id.isEmpty ? " \(system)" : id) (\(mode?.rawValue ?? "forget"))"
        case .link: return "link\(id) to \(entity) hub \(hubID)"
        case .relink: return "relink\(id) from hub \(fromHubID?.rawValue ?? "?") to \(entity) hub \(hubID)"
        case .repush: return "repush \(entity) hub \(hubID) to \(system)\(externalID.map { " (record \($0))" } ?? "")"
        }
    }
}
