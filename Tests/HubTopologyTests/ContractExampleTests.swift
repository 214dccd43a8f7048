import Foundation
import HubCore
import HubTopology
import Testing

/// The full example of docs/topology-v1.md (kept as topologies/customer-360.json) decodes into
/// exactly what the contract describes.
@Suite struct ContractExampleTests {
    static let path = Paths.topologies.appendingPathComponent("customer-360.json").path

    func load() throws -> Topology { try TopologyLoader.load(path: Self.path, environment: [:]) }

    @Test func theContractExampleLoads() throws {
        let t = try load()
        #expect(t.name == "customer-360")
        #expect(t.baseDirectory == Paths.topologies.standardizedFileURL.path)
        #expect(t.hubPath == Paths.topologies.standardizedFileURL.appendingPathComponent("customer-360.hub.sqlite").path)
        #expect(t.entities.map(\.name) == ["employee", "customer"])
        #expect(t.systems.map(\.name) == ["crm", "sheet"])
        #expect(t.secrets.secrets.isEmpty)
    }

    @Test func thePriorityListMayNameSystemsThatAreNotDeclaredYet() throws {
        // The contract ranks billing and app, which it does not declare: accepted, with warnings.
        let t = try load()
        #expect(t.warnings.map(\.description) == [
            "entities.customer.conflicts.priority[0]: system 'billing' is not declared in 'systems' (declared: crm, sheet); it ranks nothing until it is",
            "entities.customer.conflicts.priority[2]: system 'app' is not declared in 'systems' (declared: crm, sheet); it ranks nothing until it is",
        ])
        #expect(t.warnings.map(\.position) == [SourcePosition(line: 28, column: 58), SourcePosition(line: 28, column: 76)])
    }

    @Test func entitiesKeepTheirFieldsTypesNormalisationAndMatchRules() throws {
        let t = try load()
        let employee = try #require(t.entity("employee"))
        #expect(employee.fields.map(\.name) == ["email", "first_name", "last_name", "manager"])
        #expect(employee.field("email") == FieldDefinition(name: "email", type: .string, required: true, normalize: [.lowercase]))
        #expect(employee.field("manager") == FieldDefinition(name: "manager", type: .ref, refEntity: "employee"))
        #expect(employee.match == [["email"]])
        #expect(employee.conflicts == ConflictPolicy())

        let customer = try #require(t.entity("customer"))
        #expect(customer.fields.map(\.name.rawValue)
            == ["email", "first_name", "last_name", "company", "country", "phone", "support_rep"])
        #expect(customer.field("support_rep")?.refEntity == "employee")
        #expect(customer.match == [["email"]])
        #expect(customer.conflicts == ConflictPolicy(resolve: .priority, priority: ["billing", "crm", "app"].map(SystemName.init),
                                                     fields: ["phone": FieldConflictRule(owner: "crm")]))
    }

    @Test func referencedEntitiesComeFirstAndSelfReferencesKeepOrder() throws {
        #expect(try load().referenceOrder == ["employee", "customer"])
    }

    @Test func theCRMSystemMapsBothEntities() throws {
        let crm = try #require(try load().system("crm"))
        #expect(crm.adapter == .sqlite)
        #expect(crm.connection == ["path": "crm.db"])
        #expect(crm.direction == .both)
        let reps = try #require(crm.mapping(for: "employee"))
        #expect(reps.object == "reps")
        #expect(reps.idField == "rep_id")
        #expect(reps.cursorField == nil)
        #expect(reps.fields == [
            .rename("email", "mail"), .rename("first_name", "first"), .rename("last_name", "last"),
            .rename("manager", "boss_id"),
        ])
        #expect(reps.deletes == DeletePolicy(pull: .propagate, push: .delete))

        let contacts = try #require(crm.mapping(for: "customer"))
        #expect(contacts.object == "contacts")
        #expect(contacts.idField == "contact_id")
        #expect(contacts.cursorField == "modified_at")
        #expect(contacts.fields.map(\.systemField)
            == ["email_address", "given_name", "family_name", "country_code", "phone", "owner_id"])
        let country = try #require(contacts.fields.first { $0.canonical == ["country"] })
        #expect(country.values == ["Brazil": "BR", "Germany": "DE"])
        #expect(country.direction == .both)
        // The filter's constants are kept as written: country has no normalisation.
        #expect(contacts.filter == .compare("country", .isIn(["Brazil", "Germany", "USA"])))
        #expect(contacts.deletes == DeletePolicy(pull: .propagate, push: .delete))
    }

    @Test func theSheetIsAPushOnlyCSVSystemWithDefaults() throws {
        let sheet = try #require(try load().system("sheet"))
        #expect(sheet.adapter == .csv)
        #expect(sheet.connection == ["path": "exports"])
        #expect(sheet.direction == .push)
        let customers = try #require(sheet.mapping(for: "customer"))
        #expect(customers.object == "customers.csv")
        #expect(customers.idField == "Row ID")
        #expect(customers.fields == [.rename("email", "Email"), .rename("first_name", "First"), .rename("last_name", "Last")])
        #expect(customers.filter == nil)
        #expect(customers.deletes == DeletePolicy())
    }

    @Test func connectionPathsResolveAgainstTheTopologyFolder() throws {
        let t = try load()
        #expect(t.resolvedPath("crm.db") == Paths.topologies.standardizedFileURL.appendingPathComponent("crm.db").path)
        #expect(t.resolvedPath("/var/data/crm.db") == "/var/data/crm.db")
    }

    @Test func aMissingFileIsReportedWithAHint() {
        #expect(throws: TopologyError.self) { try TopologyLoader.load(path: "/nonexistent/topology.json") }
        do {
            _ = try TopologyLoader.load(path: "/nonexistent/topology.json")
        } catch let error as TopologyError {
            #expect(error.diagnostics.map(\.message) == ["no topology file here; pass -t PATH or set HUBCTL_TOPOLOGY"])
            #expect(error.description == """
                /nonexistent/topology.json: 1 problem in the topology:
                  no topology file here; pass -t PATH or set HUBCTL_TOPOLOGY
                """)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// Every example in topologies/ loads, so examples cannot rot. Engineers add examples there
/// (the demo, say); this test picks them up.
@Suite struct ExampleTopologyTests {
    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.topologies.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    @Test func thereAreExamples() {
        #expect(Self.files.contains("customer-360.json"))
    }

    @Test(arguments: files)
    func everyExampleTopologyLoads(_ name: String) throws {
        let path = Paths.topologies.appendingPathComponent(name).path
        // Examples read secrets from ${NAME} variables without defaults (a secret has no default):
        // give those a stand-in value; everything else must validate with its default alone.
        let environment = Self.secretVariables(in: try String(contentsOfFile: path, encoding: .utf8))
        #expect(environment.keys.allSatisfy { $0.contains("PASSWORD") || $0.contains("TOKEN") }, "\(environment.keys)")
        #expect(throws: Never.self) { try TopologyLoader.load(path: path, environment: environment) }
    }

    /// Every `${NAME}` without a default in `text`, with a stand-in value.
    static func secretVariables(in text: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: "}") else { break }
            let name = rest[..<end]
            if !name.contains(":") { out[String(name)] = "stand-in-\(name.lowercased())" }
            rest = rest[end...]
        }
        return out
    }
}
