import HubCore
import HubMapping
import HubStore
@testable import HubSync
import HubTopology
import Testing

/// Comparing a found schema with the mapping and the fingerprint, and the mapping change
/// suggested for what was found.
@Suite struct SchemaComparisonTests {
    static let topologyJSON = #"""
        {"version": 1,
         "entities": {"customer": {"fields": {"email": {"type": "string", "required": true}, "first_name": "string",
                                               "last_name": "string", "joined": "date", "phone": "string", "tier": "string"}}},
         "systems": {
           "crm": {"adapter": "sqlite", "connection": {"path": "crm.db"},
                   "entities": {"customer": {"object": "contacts", "id": "contact_id", "cursor": "modified_at",
                                             "fields": {"email": "Email", "joined": "Joined",
                                                        "last_name": {"field": "Name", "parts": ["first_name", "last_name"]},
                                                        "phone": {"field": "Phone", "normalize": "digits"}}}}}}}
        """#

    let topology: Topology
    let mapper: EntityMapper

    init() throws {
        topology = try TopologyLoader.decode(Self.topologyJSON, baseDirectory: "/tmp")
        let system = try #require(topology.system("crm"))
        mapper = EntityMapper(system: system, mapping: system.entities[0], entity: try #require(topology.entity("customer")),
                              nestedPaths: false)
    }

    static func field(_ name: String, _ kind: ValueKind, _ type: String? = nil) -> DiscoveredField {
        DiscoveredField(name: name, nativeType: type ?? kind.rawValue.uppercased(), kind: kind)
    }

    static let before = [field("contact_id", .integer), field("Email", .text), field("Joined", .date, "DATE"),
                         field("Name", .text), field("Phone", .text), field("modified_at", .datetime), field("Notes", .text)]

    func comparison(_ previous: [DiscoveredField]?) -> SchemaComparison {
        SchemaComparison(mapper: mapper, previous: previous.map {
            SchemaFingerprint(system: "crm", entity: "customer", object: "contacts", fields: $0, sampled: false,
                              mapping: SchemaComparison.mappingSignature(mapper), run: "r1", takenAt: "t")
        }, foldsCase: true)
    }

    @Test func theNeededFieldsAreTheIDTheCursorAndEveryMappedFieldOnce() {
        #expect(comparison(nil).needed == ["contact_id", "modified_at", "Email", "Joined", "Name", "Phone"])
    }

    @Test func missingFieldsTypeChangesAndNewFieldsAreFoundAgainstTheFingerprint() {
        let c = comparison(Self.before)
        let now = DiscoveredObject(name: "contacts", fields: [
            Self.field("CONTACT_ID", .integer), Self.field("email", .text), Self.field("Joined", .integer, "INTEGER"),
            Self.field("Name", .text), Self.field("modified_at", .datetime), Self.field("Notes", .text),
            Self.field("Mobile", .text), Self.field("Tier", .text),
        ])
        // SQLite folds case: `CONTACT_ID` and `email` are the mapped columns.
        #expect(c.missing(in: now) == ["Phone"])
        let changes = c.typeChanges(in: now)
        #expect(changes.map(\.field) == ["Joined"])
        #expect(changes.first?.refusal?.contains("give the mapping \"format\": \"unix\"") == true)
        #expect(c.added(in: now.fields).map(\.name) == ["Mobile", "Tier"], "Notes was there before")
        #expect(c.added(in: now.fields, stillOpen: ["Notes"]).map(\.name) == ["Notes", "Mobile", "Tier"])
        // Without a fingerprint nothing counts as new; without case folding `email` is not `Email`.
        #expect(comparison(nil).added(in: now.fields).isEmpty)
        let exact = SchemaComparison(mapper: mapper, previous: nil, foldsCase: false)
        #expect(exact.missing(in: now) == ["contact_id", "Email", "Phone"])
    }

    @Test func aTypeTheMappingCouldNotConvertBeforeEitherDoesNotPause() {
        let c = comparison([Self.field("Joined", .binary, "BLOB")])
        let now = DiscoveredObject(name: "contacts", fields: [Self.field("Joined", .integer, "INTEGER")])
        #expect(c.typeChanges(in: now).map(\.refusal) == [nil])
    }

    @Test func sampledFieldsAccumulateAndKeepTheirKindWhenSeenOnlyAsNull() {
        let union = SchemaComparison.union([Self.field("a", .text), Self.field("b", .integer)],
                                           [Self.field("b", .any), Self.field("c", .boolean)])
        #expect(union.map(\.name) == ["a", "b", "c"])
        #expect(union.map(\.kind) == [.text, .integer, .boolean])
    }

    @Test func aMappingChangeIsSeenPerCanonicalField() throws {
        var changed = topology.system("crm")!
        changed.entities[0].fields[3].systemField = "Mobile"
        let other = EntityMapper(system: changed, mapping: changed.entities[0], entity: topology.entity("customer")!, nestedPaths: false)
        let now = SchemaComparison.mappingSignature(other)
        let before = SchemaComparison.mappingSignature(mapper)
        #expect(SchemaComparison.remapped(other.inboundFields, now: now, before: before) == ["phone"])
        #expect(before["first_name"] == before["last_name"], "a composite's parts share one mapping")
    }

    @Test func namesAreAlikeWhenTheyDifferInCaseOrPunctuationContainOneAnotherOrAreAFewEditsApart() {
        #expect(SyncEngine.nameDistance("Phone", "phone_") == 0)
        #expect(SyncEngine.nameDistance("phone", "mobile_phone") == 1)
        #expect(SyncEngine.nameDistance("country", "countr") == 1)
        #expect(SyncEngine.nameDistance("given_name", "givne_name") != nil)
        #expect(SyncEngine.nameDistance("Country", "Land") == nil)
        #expect(SyncEngine.nameDistance("id", "uuid") == nil, "too short to contain one another, two edits apart")
    }

    @Test func canonicalNamesAreLowerSnakeCase() {
        #expect(SchemaPatch.canonicalName("Loyalty Tier") == "loyalty_tier")
        #expect(SchemaPatch.canonicalName("loyaltyTier") == "loyalty_tier")
        #expect(SchemaPatch.canonicalName("contact.phone") == "contact_phone")
        #expect(SchemaPatch.canonicalName("2nd email") == "f_2nd_email")
        #expect(SchemaPatch.canonicalName("\"É\"") == nil)
    }

    @Test func thePatchMapsRenamedFieldsUnderTheFilesOwnKeysAndAddsNewOnes() throws {
        func drift(_ change: SchemaDriftRecord.Change, _ field: String, _ new: String? = nil) -> SchemaDriftRecord {
            SchemaDriftRecord(run: "r", system: "crm", entity: "customer", object: "contacts", change: change, field: field,
                              newField: new, message: "", pauses: change != .added, detectedAt: "t")
        }
        let live = DiscoveredObject(name: "contacts", fields: [Self.field("Full Name", .text), Self.field("Loyalty Tier", .text),
                                                               Self.field("Tier", .text), Self.field("Photo", .binary),
                                                               Self.field("Since", .datetime)])
        let diff = SchemaDiff(system: "crm", objects: [SchemaDiff.Object(
            entity: "customer", object: "contacts", fingerprint: nil, live: live, sampled: false, missing: false,
            changes: [drift(.renamed, "Name", "Full Name"), drift(.renamed, "modified_at", "Since"), drift(.added, "Loyalty Tier"),
                      drift(.added, "Tier"), drift(.added, "Photo")])])
        // The file keys the composite by `last_name`.
        let raw = try JSONParser.parse(Self.topologyJSON)
        let made = try #require(SchemaPatch.make(diff, topology: topology, raw: raw))
        #expect(made.patch == [
            "entities": ["customer": ["fields": ["loyalty_tier": ["type": "string"]]]],
            "systems": ["crm": ["entities": ["customer": [
                "cursor": "Since",
                "fields": ["last_name": ["field": "Full Name"], "loyalty_tier": "Loyalty Tier", "tier": "Tier"],
            ]]]],
        ])
        #expect(made.steps.map(\.description) == [
            "map canonical 'first_name', 'last_name' to 'Full Name' (was 'Name')",
            "use 'Since' as the cursor (was 'modified_at')",
            "add canonical string field 'loyalty_tier' and map 'Loyalty Tier' to it",
            "map 'Tier' to the existing canonical 'tier'",
        ])
        // Without the file, the first part keys it.
        let plain = try #require(SchemaPatch.make(diff, topology: topology, raw: nil))
        #expect(plain.patch.value(atPath: "systems.crm.entities.customer.fields.first_name") == ["field": "Full Name"])
        #expect(SchemaPatch.make(SchemaDiff(system: "crm", objects: []), topology: topology, raw: raw) == nil)
    }
}
