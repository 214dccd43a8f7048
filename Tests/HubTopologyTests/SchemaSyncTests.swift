import Foundation
import HubCore
@testable import HubTopology
import Testing

/// docs/topology.schema.json describes exactly what the decoder accepts: the same keys at every
/// level and the same enumerations. Adding a key to one without the other fails here.
@Suite struct SchemaSyncTests {
    static let schema: Value? = {
        let url = Paths.repository.appendingPathComponent("docs/topology.schema.json")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        return try? JSONParser.parse(text)
    }()

    func at(_ path: String) throws -> Value {
        var current = try #require(Self.schema, "docs/topology.schema.json is missing or not JSON")
        for part in path.split(separator: "/") {
            if let index = Int(part) {
                current = try #require(current.arrayValue?[index], "\(path): no \(part)")
            } else {
                current = try #require(current.objectValue?[String(part)], "\(path): no \(part)")
            }
        }
        return current
    }

    func keys(_ path: String) throws -> Set<String> { Set(try #require(try at(path).objectValue).keys) }

    func enumeration(_ path: String) throws -> Set<String> {
        Set(try #require(try at(path).arrayValue).compactMap(\.stringValue))
    }

    @Test func theSchemaIsDraft2020AndRejectsUnknownTopLevelKeys() throws {
        #expect(try at("$schema") == "https://json-schema.org/draft/2020-12/schema")
        #expect(try at("additionalProperties") == false)
        #expect(try keys("properties") == Set(TopologyDecoder.topKeys))
    }

    @Test func everyObjectHasTheDecodersKeys() throws {
        #expect(try keys("$defs/entity/properties") == Set(TopologyDecoder.entityKeys))
        #expect(try keys("$defs/field/oneOf/1/properties") == Set(TopologyDecoder.fieldKeys))
        #expect(try keys("$defs/conflicts/properties") == Set(TopologyDecoder.conflictKeys))
        #expect(try keys("$defs/conflicts/properties/fields/additionalProperties/properties") == Set(TopologyDecoder.fieldConflictKeys))
        #expect(try keys("$defs/system/properties") == Set(TopologyDecoder.systemKeys))
        #expect(try keys("$defs/systemEntity/properties") == Set(TopologyDecoder.systemEntityKeys))
        #expect(try keys("$defs/fieldMapping/oneOf/1/properties") == Set(TopologyDecoder.fieldMappingKeys))
        #expect(try keys("$defs/deletes/properties") == Set(TopologyDecoder.deleteKeys))
        #expect(try keys("$defs/condition/anyOf/1/properties") == Set(TopologyDecoder.comparisonKeys))
        #expect(try keys("$defs/predicate/properties") == ["all", "any", "not"])
        #expect(try keys("properties/hub/properties") == ["path", "url", "schema"])
    }

    @Test func objectsThatRejectUnknownKeysSaySo() throws {
        for path in ["properties/hub", "$defs/entity", "$defs/field/oneOf/1", "$defs/conflicts",
                     "$defs/conflicts/properties/fields/additionalProperties", "$defs/system", "$defs/systemEntity",
                     "$defs/fieldMapping/oneOf/1", "$defs/deletes", "$defs/condition/anyOf/1",
                     "$defs/system/allOf/0/then/properties/connection", "$defs/system/allOf/1/then/properties/connection",
                     "$defs/system/allOf/2/then/properties/connection", "$defs/system/allOf/3/then/properties/connection",
                     "$defs/system/allOf/4/then/properties/connection", "$defs/system/allOf/5/then/properties/connection",
                     "$defs/restEndpoint", "$defs/restOperation", "$defs/restEndpoint/properties/pagination",
                     "$defs/restEndpoint/properties/tombstone",
                     "$defs/system/allOf/4/then/properties/connection/properties/auth",
                     "$defs/system/allOf/4/then/properties/connection/properties/retry"] {
            #expect(try at(path + "/additionalProperties") == false, "\(path)")
        }
    }

    @Test func connectionKeysMatchPerAdapter() throws {
        #expect(try at("$defs/system/allOf/0/if/properties/adapter/const") == "sqlite")
        #expect(try keys("$defs/system/allOf/0/then/properties/connection/properties") == ["path"])
        #expect(try at("$defs/system/allOf/1/if/properties/adapter/const") == "csv")
        #expect(try keys("$defs/system/allOf/1/then/properties/connection/properties") == Set(TopologyDecoder.csvConnectionKeys))
        #expect(try at("$defs/system/allOf/2/if/properties/adapter/const") == "jsonl")
        #expect(try keys("$defs/system/allOf/2/then/properties/connection/properties") == Set(TopologyDecoder.jsonlConnectionKeys))
        #expect(try at("$defs/system/allOf/3/if/properties/adapter/const") == "postgres")
        #expect(try keys("$defs/system/allOf/3/then/properties/connection/properties") == Set(TopologyDecoder.postgresConnectionKeys))
        #expect(try at("$defs/system/allOf/4/if/properties/adapter/const") == "rest")
        let rest = "$defs/system/allOf/4/then/properties/connection/properties"
        #expect(try keys(rest) == Set(TopologyDecoder.restConnectionKeys))
        #expect(try keys(rest + "/auth/properties") == Set(TopologyDecoder.restAuthKeys))
        #expect(try enumeration(rest + "/auth/properties/type/enum") == Set(TopologyDecoder.restAuthTypes))
        #expect(try keys(rest + "/retry/properties") == Set(TopologyDecoder.restRetryKeys))
        #expect(try at("$defs/system/allOf/5/if/properties/adapter/const") == "exec")
        #expect(try keys("$defs/system/allOf/5/then/properties/connection/properties") == Set(TopologyDecoder.execConnectionKeys))
    }

    @Test func restEndpointKeysMatchTheDecoder() throws {
        #expect(try keys("$defs/restEndpoint/properties") == Set(TopologyDecoder.restEndpointKeys))
        #expect(try keys("$defs/restEndpoint/properties/pagination/properties") == Set(TopologyDecoder.restPaginationKeys))
        #expect(try enumeration("$defs/restEndpoint/properties/pagination/properties/style/enum")
                    == Set(TopologyDecoder.restPaginationStyles))
        #expect(try keys("$defs/restOperation/properties") == Set(TopologyDecoder.restOperationKeys))
        #expect(try keys("$defs/restEndpoint/properties/tombstone/properties") == Set(TopologyDecoder.restTombstoneKeys))
    }

    @Test func enumerationsMatchTheModel() throws {
        #expect(try enumeration("$defs/field/oneOf/1/properties/type/enum") == Set(FieldType.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/field/oneOf/0/enum") == Set(FieldType.allCases.map(\.rawValue)).subtracting(["ref"]))
        #expect(try enumeration("$defs/normalizer/enum") == Set(Normalizer.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/conflicts/properties/resolve/enum") == Set(Resolution.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/system/properties/adapter/enum") == Set(AdapterKind.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/system/properties/direction/enum") == Set(Direction.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/fieldMapping/oneOf/1/properties/direction/enum") == Set(Direction.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/fieldMapping/oneOf/1/properties/type/enum") == Set(SystemValueType.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/fieldMapping/oneOf/1/properties/split/enum") == Set(SplitSide.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/deletes/properties/pull/enum") == Set(DeletePolicy.Pull.allCases.map(\.rawValue)))
        #expect(try enumeration("$defs/deletes/properties/push/oneOf/0/enum") == ["delete", "ignore"])
        #expect(try enumeration("$defs/systemEntity/properties/on_unmatch/enum") == Set(OnUnmatch.allCases.map(\.rawValue)))
    }
}
