import Foundation
import HubCore
import HubTopology
import Testing

/// Where the test fixtures and the repository's example topologies are, found from this file's
/// path so that no SwiftPM resources are needed.
enum Paths {
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let invalidFixtures = testsFolder.appendingPathComponent("Fixtures/invalid")
    static let repository = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    static let topologies = repository.appendingPathComponent("topologies")
}

/// Decodes topology text; the diagnostics when it is rejected, or an empty list.
func diagnostics(_ text: String, environment: [String: String] = [:]) -> [Diagnostic] {
    do {
        _ = try TopologyLoader.decode(text, fileName: "test.json", baseDirectory: "/work/topo", environment: environment)
        return []
    } catch let error as TopologyError {
        return error.diagnostics
    } catch {
        Issue.record("unexpected error \(error)")
        return []
    }
}

/// The diagnostics as `hubctl validate` prints them (`path: message`).
func problems(_ text: String, environment: [String: String] = [:]) -> [String] {
    diagnostics(text, environment: environment).map(\.description)
}

/// The warnings for topology text, whether or not it loads.
func warnings(_ text: String, environment: [String: String] = [:]) -> [String] {
    do {
        return try TopologyLoader.decode(text, fileName: "test.json", baseDirectory: "/work/topo", environment: environment)
            .warnings.map(\.description)
    } catch let error as TopologyError {
        return error.warnings.map(\.description)
    } catch {
        Issue.record("unexpected error \(error)")
        return []
    }
}

/// Decodes topology text that must be valid.
func valid(_ text: String, environment: [String: String] = [:]) throws -> Topology {
    do {
        return try TopologyLoader.decode(text, fileName: "test.json", baseDirectory: "/work/topo", environment: environment)
    } catch let error as TopologyError {
        Issue.record("expected a valid topology:\n\(error)")
        throw error
    }
}

/// A small topology: one `customer` entity (and `employee`), one sqlite system `crm`. The
/// arguments are spliced in as JSON text, so each test shows only what it is about.
func topology(
    customerFields: String = #"""
        "email": {"type": "string", "required": true, "normalize": "lowercase"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "full_name": {"type": "string"},
        "country": {"type": "string"},
        "age": {"type": "integer"},
        "born": {"type": "date"},
        "support_rep": {"type": "ref", "entity": "employee"}
    """#,
    customerExtra: String = "",
    crmFields: String = #""email": "mail""#,
    crmEntityExtra: String = "",
    crmExtra: String = "",
    crmConnection: String = #"{"path": "crm.db"}"#,
    moreSystems: String = "",
    topExtra: String = ""
) -> String {
    """
    {
      "version": 1,
      "name": "test"\(topExtra.isEmpty ? "" : ",\n  " + topExtra),
      "entities": {
        "employee": {"fields": {"email": {"type": "string"}}},
        "customer": {
          "fields": {
            \(customerFields)
          }\(customerExtra.isEmpty ? "" : ",\n      " + customerExtra)
        }
      },
      "systems": {
        "crm": {
          "adapter": "sqlite",
          "connection": \(crmConnection)\(crmExtra.isEmpty ? "" : ",\n      " + crmExtra),
          "entities": {
            "employee": {"object": "reps", "fields": {"email": "mail"}},
            "customer": {
              "object": "contacts",
              "fields": {\(crmFields)}\(crmEntityExtra.isEmpty ? "" : ",\n          " + crmEntityExtra)
            }
          }
        }\(moreSystems.isEmpty ? "" : ",\n    " + moreSystems)
      }
    }
    """
}
