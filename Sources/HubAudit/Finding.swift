import HubCore

/// One broken invariant: which check, where, how many, a few IDs to look at, and what to do.
public struct Finding: Sendable, Hashable {
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    public var check: AuditCheck
    public var system: SystemName?
    public var entity: EntityName?
    /// How many records, links or entities break the invariant.
    public var count: Int
    /// What is wrong, with the numbers; never record values.
    public var message: String
    /// What to do about it.
    public var hint: String
    /// The first few affected IDs.
    public var samples: [Sample]

    public var severity: Severity { check.severity }

    public init(check: AuditCheck, system: SystemName?, entity: EntityName?, count: Int, message: String, hint: String,
                samples: [Sample]) {
        self.check = check
        self.system = system
        self.entity = entity
        self.count = count
        self.message = message
        self.hint = hint
        self.samples = samples
    }

    /// One affected record, link or entity.
    public struct Sample: Sendable, Hashable {
        public var hubID: HubID?
        public var externalID: ExternalID?
        /// A short note: which fields drift, which rule would match, the other hub ID.
        public var detail: String?

        public init(hubID: HubID? = nil, externalID: ExternalID? = nil, detail: String? = nil) {
            self.hubID = hubID
            self.externalID = externalID
            self.detail = detail
        }
    }
}
