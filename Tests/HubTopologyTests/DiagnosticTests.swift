import HubCore
import HubTopology
import Testing

@Suite struct SyntaxErrorTests {
    @Test func aJSONSyntaxErrorIsReportedWithItsLineAndColumn() {
        let text = """
            {
              "version": 1,
              "entities": { "customer": { "fields": { "email": "string" } } },
              "systems": }
            }
            """
        let found = diagnostics(text)
        #expect(found == [Diagnostic(path: "", message: "invalid JSON: unexpected character '}'; expected a value",
                                     position: SourcePosition(line: 4, column: 14))])
    }

    @Test func aTrailingCommaPointsAtTheClosingBrace() {
        let found = diagnostics("{\n  \"version\": 1,\n}")
        #expect(found.map(\.message) == ["invalid JSON: expected a quoted key"])
        #expect(found.first?.position == SourcePosition(line: 3, column: 1))
    }

    @Test func aDuplicateKeyIsASyntaxErrorAtTheSecondKey() {
        let found = diagnostics("{\"version\": 1,\n \"version\": 1}")
        #expect(found == [Diagnostic(path: "", message: "invalid JSON: duplicate key 'version'",
                                     position: SourcePosition(line: 2, column: 2))])
    }

    @Test func columnsCountCharactersNotBytes() {
        let found = diagnostics("{\"name\": \"Zoë\", \"x\": tru}")
        #expect(found.map(\.message) == ["invalid JSON: invalid literal"])
        #expect(found.first?.position == SourcePosition(line: 1, column: 22))
    }

    @Test func theTopLevelMustBeAnObject() {
        #expect(problems("[1, 2]") == ["expected a JSON object at the top level, found array"])
    }

    @Test func theErrorPrintsFileCountAndPositions() throws {
        do {
            _ = try TopologyLoader.decode("{\"version\": 2}", fileName: "t.json", baseDirectory: "/")
            Issue.record("expected an error")
        } catch let error as TopologyError {
            #expect(error.description == """
                t.json: 3 problems in the topology:
                  1:13 version: unsupported topology version 2; this hubctl reads version 1
                  1:1 missing required key 'entities' (the canonical entities)
                  1:1 missing required key 'systems' (the connected systems)
                """)
        }
    }
}

@Suite struct StructureErrorTests {
    @Test func unknownKeysAreRejectedWithASuggestion() {
        let text = topology(crmExtra: #""directoin": "push""#)
        #expect(problems(text) == ["systems.crm.directoin: unknown key 'directoin'; did you mean 'direction'?"])
    }

    @Test func unknownKeysWithNothingCloseListWhatIsAllowed() {
        let text = topology(topExtra: #""links": []"#)
        #expect(problems(text) == [
            "links: unknown key 'links' (allowed: $schema, version, name, hub, entities, systems)"
        ])
    }

    @Test func unknownKeysAreRejectedAtEveryLevel() {
        let text = topology(
            customerFields: #""email": {"type": "string", "normalise": "lowercase"}"#,
            customerExtra: #""matches": [["email"]]"#,
            crmFields: #""email": {"field": "mail", "transform": "trim"}"#,
            crmEntityExtra: #""delete": "ignore""#,
            topExtra: #""hub": {"file": "x.sqlite"}"#)
        #expect(problems(text) == [
            "hub.file: unknown key 'file' (allowed: path, url, schema)",
            "entities.customer.matches: unknown key 'matches'; did you mean 'match'?",
            "entities.customer.fields.email.normalise: unknown key 'normalise'; did you mean 'normalize'?",
            "systems.crm.entities.customer.delete: unknown key 'delete'; did you mean 'deletes'?",
            "systems.crm.entities.customer.fields.email.transform: unknown key 'transform' "
                + "(allowed: field, values, direction, default, type, format, normalize, parts, separator, split)",
        ])
    }

    @Test func wrongTypesSayWhatWasExpectedAndWhatWasFound() {
        let text = topology(
            customerFields: #""email": {"type": "string", "required": "yes"}, "age": {"type": 5}"#,
            customerExtra: #""match": "email""#,
            crmFields: #""email": 42"#,
            crmExtra: #""direction": true"#,
            topExtra: #""hub": "hub.sqlite""#)
        #expect(problems(text) == [
            "hub: expected an object, found string",
            "entities.customer.fields.email.required: expected true or false, found string",
            "entities.customer.fields.age.type: expected one of: string, integer, number, boolean, date, datetime, json, ref, found integer",
            "systems.crm.direction: expected one of: both, pull, push, found boolean",
            "systems.crm.entities.customer.fields.email: expected a system field name or an object with 'field', found integer",
            #"entities.customer.match: expected an array of field lists, e.g. [["email"]], found string"#,
        ])
    }

    @Test func theVersionMustBeTheInteger1() {
        #expect(problems(topology().replacingOccurrences(of: #""version": 1"#, with: #""version": "1""#))
            == ["version: expected an integer, found string"])
        #expect(problems(topology().replacingOccurrences(of: #""version": 1"#, with: #""version": 2"#))
            == ["version: unsupported topology version 2; this hubctl reads version 1"])
    }

    @Test func missingRequiredKeysAreNamedWithWhatTheyAreFor() {
        let text = """
            {"entities": {"customer": {"match": []}},
             "systems": {"crm": {"connection": {"path": "x.db"}, "entities": {"customer": {"fields": {}}}}}}
            """
        #expect(problems(text) == [
            "missing required key 'version' (must be 1)",
            "entities.customer: missing required key 'fields' (an object of canonical fields)",
            "systems.crm: missing required key 'adapter' (sqlite | csv | jsonl | postgres | rest | exec)",
            "systems.crm.entities.customer: missing required key 'object' (the table, file or collection)",
            "systems.crm.entities.customer.fields: map at least one field",
        ])
    }

    @Test func emptyEntitiesAndSystemsAreRejected() {
        #expect(problems(#"{"version": 1, "entities": {}, "systems": {}}"#) == [
            "entities: declare at least one entity",
            "systems: declare at least one system",
        ])
    }
}

@Suite struct NameErrorTests {
    @Test func anUnknownEntityInASystemIsNamedWithTheDeclaredOnes() {
        let text = topology(moreSystems: #""app": {"adapter": "jsonl", "entities": {"custmer": {"object": "c.jsonl", "fields": {"email": "e"}}}}"#)
        #expect(problems(text) == [
            "systems.app.entities.custmer: unknown entity 'custmer' (declared: employee, customer); did you mean 'customer'?"
        ])
    }

    @Test func anUnknownAdapterIsRejectedWithASuggestion() {
        let text = topology().replacingOccurrences(of: #""adapter": "sqlite""#, with: #""adapter": "sqlit""#)
        #expect(problems(text) == [
            "systems.crm.adapter: unknown adapter 'sqlit'; expected one of: sqlite, csv, jsonl, postgres, rest, exec; did you mean 'sqlite'?"
        ])
    }

    @Test(arguments: [
        ("postgres", ["systems.erp.connection.url: expected a URL like postgres://user:${PGPASSWORD}@host:5432/database"]),
        ("rest", ["systems.erp.connection.url: unknown key 'url' (allowed: base_url, auth, headers, timeout, rate_limit, retry, endpoint)",
                  "systems.erp.connection: missing required key 'base_url' (the API root, e.g. https://api.example.com/v1)"]),
        ("exec", ["systems.erp.connection.url: unknown key 'url' (allowed: command, settings, timeout, tombstones, max_line_mb, max_pages)",
                  #"systems.erp.connection: missing required key 'command' (the connector's program and arguments, e.g. ["python3", "connector.py"])"#]),
    ])
    func aConnectionThatDoesNotFitTheAdapterIsAValidationError(_ adapter: String, _ expected: [String]) {
        let text = topology(moreSystems: """
            "erp": {"adapter": "\(adapter)", "connection": {"url": "x"}, "entities": {"customer": {"object": "c", "fields": {"email": "e"}}}}
            """)
        #expect(problems(text) == expected)
    }

    @Test func secretsWrittenInTheTopologyAreRejected() {
        let text = topology(moreSystems: """
            "erp": {"adapter": "postgres", "connection": {"url": "postgres://app:hunter22@db/erp"},
                    "entities": {"customer": {"object": "c", "fields": {"email": "e"}}}},
            "api": {"adapter": "rest", "connection": {"base_url": "https://api.test", "auth": {"type": "bearer", "token": "abc123"}},
                    "entities": {"customer": {"object": "c", "fields": {"email": "e"}}}}
            """)
        #expect(problems(text) == [
            "systems.erp.connection.url: the URL holds a password written in the topology; write it as ${NAME} so it comes from the environment",
            "systems.api.connection.auth.token: a secret written in the topology; write ${NAME} and export NAME so it comes from the environment",
        ])
    }

    @Test func restEndpointSettingsAreChecked() {
        let text = topology(moreSystems: """
            "api": {"adapter": "rest", "connection": {"base_url": "https://api.test"},
                    "entities": {"customer": {"object": "c", "fields": {"email": "e"},
                                 "endpoint": {"pagination": {"style": "cursr"}, "create": {"method": "GET"}, "envelop": "data"}}}}
            """)
        #expect(problems(text) == [
            "systems.api.entities.customer.endpoint.envelop: unknown key 'envelop'; did you mean 'envelope'?",
            "systems.api.entities.customer.endpoint.pagination.style: unknown pagination style 'cursr'; expected none, page, offset, cursor, header, link, next_url",
            "systems.api.entities.customer.endpoint.create.method: unknown method 'GET'; expected POST, PUT, PATCH, DELETE",
        ])
        let sqlite = topology(crmEntityExtra: #""endpoint": {"path": "x"}"#)
        #expect(problems(sqlite) == ["systems.crm.entities.customer.endpoint: 'endpoint' is for rest systems; this system's adapter is sqlite"])
    }

    @Test func aRefToAnUnknownEntityIsRejected() {
        let text = topology(customerFields: #""email": {"type": "string"}, "rep": {"type": "ref", "entity": "employe"}"#)
        #expect(problems(text) == [
            "entities.customer.fields.rep.entity: ref to unknown entity 'employe' (declared: employee, customer); did you mean 'employee'?"
        ])
    }

    @Test func aRefFieldNeedsItsEntity() {
        let text = topology(customerFields: #""email": {"type": "string"}, "rep": {"type": "ref"}, "boss": "ref", "n": {"type": "integer", "entity": "employee"}"#)
        #expect(problems(text) == [
            "entities.customer.fields.rep: missing required key 'entity' (the entity this ref points to)",
            #"entities.customer.fields.boss: a ref field needs an object with 'entity': {"type": "ref", "entity": "…"}"#,
            "entities.customer.fields.n.entity: 'entity' is only allowed on fields of type ref",
        ])
    }

    @Test func aRefMappedInASystemThatDoesNotMapItsTargetIsRejected() {
        let text = topology(moreSystems: """
            "sheet": {"adapter": "csv", "direction": "push", "entities": {"customer": {"object": "c.csv",
                      "fields": {"email": "Email", "support_rep": "Rep"}}}}
            """)
        #expect(problems(text) == [
            "systems.sheet.entities.customer.fields.support_rep: 'support_rep' refers to employee, which system 'sheet' does not map; "
                + "map employee in 'sheet' too, or drop this field"
        ])
    }

    @Test func anUnknownCanonicalFieldListsTheEntitysFieldsAndSuggestsTheClosest() {
        let text = topology(crmFields: #""emial": "mail""#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.emial: unknown canonical field 'emial' "
                + "(customer has: email, first_name, last_name, full_name, country, age, born, support_rep); did you mean 'email'?"
        ])
    }

    @Test func longFieldListsAreCutAfterEightNames() {
        let fields = (1...10).map { #""f\#($0)": "string""# }.joined(separator: ", ")
        let text = topology(customerFields: fields, crmFields: #""email": "mail""#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.email: unknown canonical field 'email' (customer has: f1, f2, f3, f4, f5, f6, f7, f8, …)"
        ])
    }

    @Test func anUnknownFieldTypeIsRejectedWithASuggestionAndNotReportedAgainWhereTheFieldIsUsed() {
        let text = topology(customerFields: #""email": "strng", "name": "string""#, customerExtra: #""match": [["email"]]"#)
        #expect(problems(text) == [
            "entities.customer.fields.email: unknown field type 'strng'; expected one of: string, integer, number, boolean, date, datetime, json, ref; did you mean 'string'?"
        ])
    }

    @Test func aBrokenEntityIsNotReportedAgainWhereItIsUsed() {
        let text = topology(customerFields: #""email": "string", "rep": {"type": "ref", "entity": "employee"}"#)
            .replacingOccurrences(of: #""employee": {"fields": {"email": {"type": "string"}}}"#, with: #""employee": []"#)
        #expect(problems(text) == ["entities.employee: expected an object, found array"])
    }

    @Test func matchRulesNameKnownScalarFields() {
        let text = topology(
            customerFields: #""email": "string", "tags": "json""#,
            customerExtra: #""match": [["emial"], [], ["tags"], "email"]"#)
        #expect(problems(text) == [
            "entities.customer.match[0][0]: unknown canonical field 'emial' (customer has: email, tags); did you mean 'email'?",
            "entities.customer.match[1]: a match rule needs at least one field",
            "entities.customer.match[2][0]: json fields cannot be matched on; use a scalar field",
            #"entities.customer.match[3]: expected an array of field names, e.g. ["email"], found string"#,
        ])
    }

    @Test func aSystemFieldMayBeWrittenByOneMappingOnly() {
        let text = topology(crmFields: #""email": "mail", "first_name": "mail", "last_name": {"field": "mail", "direction": "pull"}"#)
        #expect(problems(text) == [
            #"systems.crm.entities.customer.fields.first_name: system field 'mail' is already written by systems.crm.entities.customer.fields.email; set "direction": "pull" on one of them"#
        ])
    }

    @Test func theIDFieldCannotAlsoHoldACanonicalField() {
        let text = topology(crmFields: #""email": "id""#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.email: 'id' is the system's ID field; it cannot also hold a canonical field"
        ])
    }

    @Test func twoEntitiesCannotShareAnObjectInOneSystem() {
        let text = topology().replacingOccurrences(of: #""object": "reps""#, with: #""object": "contacts""#)
        #expect(problems(text) == [
            "systems.crm.entities.employee.object: object 'contacts' is mapped by more than one entity in 'crm'",
            "systems.crm.entities.customer.object: object 'contacts' is mapped by more than one entity in 'crm'",
        ])
    }

    @Test func everyMappedEntityNeedsASystemThatPullsIt() {
        let text = topology(crmExtra: #""direction": "push""#)
        #expect(problems(text) == [
            "entities.employee: no system pulls 'employee' into the hub; give one of its systems direction both or pull",
            "entities.customer: no system pulls 'customer' into the hub; give one of its systems direction both or pull",
        ])
    }
}

@Suite struct FilterErrorTests {
    @Test func anUnknownFilterOperatorIsRejectedWithASuggestion() {
        let text = topology(crmFields: #""email": "mail", "country": "cc""#,
                            crmEntityExtra: #""filter": {"country": {"inn": ["DE"]}}"#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.filter.country.inn: unknown filter operator 'inn' "
                + "(allowed: in, ne, gt, gte, lt, lte, prefix, contains, exists, eq); did you mean 'in'?"
        ])
    }

    @Test func aFilterOnAnUnknownFieldIsRejected() {
        let text = topology(crmEntityExtra: #""filter": {"any": [{"contry": "DE"}, {"not": {"agee": {"gt": 3}}}]}"#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.filter.any[0].contry: unknown canonical field 'contry' "
                + "(customer has: email, first_name, last_name, full_name, country, age, born, support_rep); did you mean 'country'?",
            "systems.crm.entities.customer.filter.any[1].not.agee: unknown canonical field 'agee' "
                + "(customer has: email, first_name, last_name, full_name, country, age, born, support_rep); did you mean 'age'?",
        ])
    }

    @Test func filterOperandsMustHaveTheRightShape() {
        let text = topology(crmEntityExtra: #"""
            "filter": {"all": [{"country": {"in": "DE"}}, {"age": {"gt": true}}, {"email": {"prefix": 1}},
                               {"born": {"exists": "yes"}}, {"country": {}}], "any": [], "not": 3}
            """#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.filter.all[0].country.in: expected an array of values, found string",
            "systems.crm.entities.customer.filter.all[1].age.gt: expected a number or a string to compare with, found boolean",
            "systems.crm.entities.customer.filter.all[2].email.prefix: expected a string, found integer",
            "systems.crm.entities.customer.filter.all[3].born.exists: expected true or false, found string",
            #"systems.crm.entities.customer.filter.all[4].country: an empty condition; write a value, or an operator such as {"in": [...]}"#,
            "systems.crm.entities.customer.filter.any: 'any' needs at least one filter",
            #"systems.crm.entities.customer.filter.not: expected a filter object, e.g. {"country": {"in": ["DE", "FR"]}}, found integer"#,
        ])
    }

    @Test func anEmptyFilterIsRejected() {
        #expect(problems(topology(crmEntityExtra: #""filter": {}"#)) == [
            "systems.crm.entities.customer.filter: an empty filter; remove it or add a condition"
        ])
    }
}

@Suite struct MappingErrorTests {
    @Test func aValueMapMustBeInvertible() {
        let text = topology(crmFields: #""email": "mail", "country": {"field": "cc", "values": {"Germany": "DE", "Deutschland": "DE", "One": 1, "Uno": "1"}}"#)
        #expect(problems(text) == [
            #"systems.crm.entities.customer.fields.country.values.Deutschland: system value "DE" is already the image of 'Germany'; the map must be invertible"#,
            #"systems.crm.entities.customer.fields.country.values.Uno: system value "1" is already the image of 'One'; the map must be invertible"#,
        ])
    }

    @Test func valueMapsDoNotApplyToRefsOrJSON() {
        let text = topology(crmFields: #""email": "mail", "support_rep": {"field": "rep", "values": {"a": "b"}}"#)
        #expect(problems(text) == ["systems.crm.entities.customer.fields.support_rep.values: value maps do not apply to ref fields"])
    }

    @Test func aBadDateFormatIsRejected() {
        let text = topology(crmFields: #""email": "mail", "born": {"field": "dob", "format": "dd.mm.yyyy"}"#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.born.format: unknown date format 'dd.mm.yyyy'; use iso8601, unix, unix_ms "
                + "or a pattern with YYYY, MM and DD such as DD/MM/YYYY or YYYY-MM-DD HH:mm:ss"
        ])
    }

    @Test func aDatePatternUsingTheMonthForMinutesIsRejected() {
        let text = topology(crmFields: #""email": "mail", "born": {"field": "dob", "format": "YYYY-MM-DD HH:MM"}"#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.born.format: the date format 'YYYY-MM-DD HH:MM' uses 'MM' twice (MM is the month; minutes are mm)"
        ])
    }

    @Test func aDateFormatOnlyAppliesToDates() {
        let text = topology(crmFields: #""email": "mail", "age": {"field": "age", "format": "unix"}"#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.age.format: 'format' applies to date and datetime fields; 'age' is integer"
        ])
    }

    @Test func mappingEnumsAreChecked() {
        let text = topology(crmFields: #""email": {"field": "mail", "direction": "in", "type": "text", "normalize": ["trim", "lower"]}"#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.email.direction: unknown direction 'in'; expected one of: both, pull, push",
            "systems.crm.entities.customer.fields.email.type: unknown system value type 'text'; expected one of: string, integer, number, boolean, json",
            "systems.crm.entities.customer.fields.email.normalize[1]: unknown normalizer 'lower'; expected one of: lowercase, uppercase, trim, collapse_spaces, digits, empty_to_null",
        ])
    }

    @Test func aDefaultMustHaveTheFieldsType() {
        let text = topology(crmFields: #""email": "mail", "age": {"field": "age", "default": "0"}, "country": {"field": "cc", "default": null}, "support_rep": {"field": "rep", "default": "x"}"#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.age.default: the default for integer field 'age' must be an integer, found string",
            "systems.crm.entities.customer.fields.country.default: a default cannot be null; leave 'default' out instead",
            "systems.crm.entities.customer.fields.support_rep.default: the default cannot be set for ref field 'support_rep'",
        ])
    }

    @Test func compositePartsMustBeDistinctKnownStringFieldsIncludingTheKey() {
        let text = topology(crmFields: #"""
            "email": "mail",
            "full_name": {"field": "name", "parts": ["first_name", "frist", "age", "first_name"]},
            "first_name": {"field": "fn", "parts": ["last_name"], "values": {"a": "b"}},
            "country": {"field": "cc", "separator": "-", "split": "middle"}
            """#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.full_name.parts[1]: unknown canonical field 'frist' "
                + "(customer has: email, first_name, last_name, full_name, country, age, born, support_rep)",
            "systems.crm.entities.customer.fields.full_name.parts[2]: composite parts must be string fields; 'age' is integer",
            "systems.crm.entities.customer.fields.full_name.parts[3]: 'first_name' is listed twice",
            "systems.crm.entities.customer.fields.full_name.parts: the parts must include 'full_name', the key this mapping is under",
            "systems.crm.entities.customer.fields.first_name.parts: a composite needs at least two parts",
            "systems.crm.entities.customer.fields.first_name.parts: the parts must include 'first_name', the key this mapping is under",
            "systems.crm.entities.customer.fields.country.separator: 'separator' only applies to composite mappings with 'parts'",
            "systems.crm.entities.customer.fields.country.split: unknown split side 'middle'; expected one of: left, right",
            "systems.crm.entities.customer.fields.country.split: 'split' only applies to composite mappings with 'parts'",
        ])
    }

    @Test func aCompositeCannotClaimAFieldMappedElsewhere() {
        let text = topology(crmFields: #"""
            "email": "mail", "first_name": "fn",
            "last_name": {"field": "name", "parts": ["first_name", "last_name"], "default": "x", "separator": ""}
            """#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.fields.last_name.separator: the separator cannot be empty",
            "systems.crm.entities.customer.fields.last_name.default: 'default' does not apply to composite mappings (with 'parts')",
            "systems.crm.entities.customer.fields.last_name: canonical field 'first_name' is already mapped at systems.crm.entities.customer.fields.first_name",
        ])
    }

    @Test func connectionKeysAreCheckedPerAdapter() {
        let text = topology(crmConnection: #"{"file": "crm.db"}"#, moreSystems: #"""
            "sheet": {"adapter": "csv", "connection": {"path": "out", "delimiter": ";;", "sep": ","},
                      "entities": {"customer": {"object": "c.csv", "fields": {"email": "Email"}}}},
            "app": {"adapter": "jsonl", "connection": {"path": ""}, "entities": {"customer": {"object": "c.jsonl", "fields": {"email": "e"}}}},
            "db": {"adapter": "sqlite", "entities": {"customer": {"object": "c", "fields": {"email": "e"}}}}
            """#)
        #expect(problems(text) == [
            "systems.crm.connection.file: unknown key 'file' (allowed: path)",
            "systems.crm.connection: missing required key 'path' (the SQLite database file)",
            "systems.sheet.connection.sep: unknown key 'sep' (allowed: path, delimiter, invalid_utf8, formula_guard, max_record_bytes)",
            "systems.sheet.connection.delimiter: the delimiter must be one character other than a quote or a line break",
            "systems.app.connection.path: expected a path, found an empty string",
            #"systems.db: missing required key 'connection' (sqlite needs {"path": "file.db"})"#,
        ])
    }
}

@Suite struct PolicyErrorTests {
    @Test func conflictPriorityWithUnknownSystemsIsAWarningWithASuggestion() throws {
        // The contract's own example ranks systems it does not declare, so this cannot be an error.
        let text = topology(customerExtra: #""conflicts": {"resolve": "priority", "priority": ["crm", "billing", "cmr"]}"#)
        let t = try valid(text)
        #expect(t.entity("customer")?.conflicts.priority == ["crm", "billing", "cmr"])
        #expect(warnings(text) == [
            "entities.customer.conflicts.priority[1]: system 'billing' is not declared in 'systems' (declared: crm); it ranks nothing until it is",
            "entities.customer.conflicts.priority[2]: system 'cmr' is not declared in 'systems' (declared: crm); it ranks nothing until it is; did you mean 'crm'?",
        ])
    }

    @Test func aSystemIsListedOnceInAPriorityList() {
        let text = topology(customerExtra: #""conflicts": {"resolve": "priority", "priority": ["crm", "crm", 3]}"#)
        #expect(problems(text) == [
            "entities.customer.conflicts.priority[1]: system 'crm' is listed twice",
            "entities.customer.conflicts.priority[2]: expected a system name, found integer",
        ])
    }

    @Test func warningsAreKeptWhenTheTopologyIsRejected() {
        let text = topology(customerExtra: #""conflicts": {"priority": ["erp"], "resolve": "oldest"}"#)
        #expect(problems(text) == [
            "entities.customer.conflicts.resolve: unknown conflict resolution 'oldest'; expected one of: newest, priority, manual"
        ])
        #expect(warnings(text) == [
            "entities.customer.conflicts.priority[0]: system 'erp' is not declared in 'systems' (declared: crm); it ranks nothing until it is"
        ])
    }

    @Test func resolvePriorityNeedsAPriorityList() {
        let text = topology(customerExtra: #""conflicts": {"resolve": "priority"}"#)
        #expect(problems(text) == ["entities.customer.conflicts: resolve 'priority' needs a 'priority' list of systems, first wins"])
    }

    @Test func perFieldRulesNameKnownFieldsAndSystems() {
        let text = topology(customerExtra: #"""
            "conflicts": {"resolve": "newst", "fields": {"phone": {"owner": "crm"}, "email": {"owner": "erp"},
                          "country": {}, "age": {"owner": "crm"}, "born": {"resolve": "priority"}}}
            """#)
        #expect(problems(text) == [
            "entities.customer.conflicts.resolve: unknown conflict resolution 'newst'; expected one of: newest, priority, manual; did you mean 'newest'?",
            "entities.customer.conflicts.fields.born: resolve 'priority' needs a 'priority' list of systems, first wins",
            "entities.customer.conflicts.fields.country: give 'owner' (a system) or 'resolve' for this field",
            "entities.customer.conflicts.fields.email.owner: unknown system 'erp' (declared: crm)",
            "entities.customer.conflicts.fields.phone: unknown canonical field 'phone' "
                + "(customer has: email, first_name, last_name, full_name, country, age, born, support_rep)",
            "entities.customer.conflicts.fields.age.owner: owner 'crm' does not map customer.age; choose a system that maps this field",
        ])
    }

    @Test func deletePoliciesAreChecked() {
        let text = topology(crmFields: #""email": "mail", "country": "cc""#, crmEntityExtra: #"""
            "deletes": {"pull": "cascade", "push": {"set": {"country": "gone", "age": 3, "emial": "x", "first_name": 1}}}
            """#)
        #expect(problems(text) == [
            "systems.crm.entities.customer.deletes.pull: unknown pull delete policy 'cascade'; expected one of: propagate, ignore, restore",
            "systems.crm.entities.customer.deletes.push.set.age: this system does not write 'age', so setting it would change nothing; "
                + "map it under 'fields' (direction both or push)",
            "systems.crm.entities.customer.deletes.push.set.emial: unknown canonical field 'emial' "
                + "(customer has: email, first_name, last_name, full_name, country, age, born, support_rep); did you mean 'email'?",
            "systems.crm.entities.customer.deletes.push.set.first_name: the value for string field 'first_name' must be a string, found integer",
        ])
    }

    @Test func pushDeletePoliciesAreDeleteIgnoreOrSet() {
        #expect(problems(topology(crmEntityExtra: #""deletes": {"push": "archive"}"#)) == [
            #"systems.crm.entities.customer.deletes.push: unknown push delete policy 'archive'; expected delete, ignore or {"set": {"field": value}}"#
        ])
        #expect(problems(topology(crmEntityExtra: #""deletes": {"push": {"set": {}}}"#)) == [
            "systems.crm.entities.customer.deletes.push.set: set at least one field"
        ])
        #expect(problems(topology(crmEntityExtra: #""deletes": {"push": 1}"#)) == [
            #"systems.crm.entities.customer.deletes.push: expected delete, ignore or {"set": {…}}, found integer"#
        ])
    }
}

@Suite struct ManyErrorsTests {
    @Test func everyProblemInAFileIsReportedAtOnce() {
        let text = """
            {
              "version": 3,
              "nmae": "x",
              "entities": {
                "customer": {
                  "fields": {
                    "email": {"type": "strin"},
                    "rep": {"type": "ref", "entity": "employee"}
                  },
                  "match": [["mail"]],
                  "conflicts": {"resolve": "priority", "priority": ["crm", "erp"]}
                }
              },
              "systems": {
                "crm": {
                  "adapter": "sqlite",
                  "connection": {"path": "${CRM_DB}"},
                  "entities": {
                    "customer": {"object": "contacts", "fields": {"emial": "mail", "rep": "owner"},
                                 "filter": {"country": "DE"}, "deletes": {"pull": "never"}}
                  }
                },
                "erp": {"adapter": "postgres", "entities": {"custmer": {"object": "c", "fields": {"email": "e"}}}}
              }
            }
            """
        let found = diagnostics(text)
        #expect(found.map(\.description) == [
            "nmae: unknown key 'nmae'; did you mean 'name'?",
            "version: unsupported topology version 3; this hubctl reads version 1",
            "entities.customer.fields.email.type: unknown field type 'strin'; expected one of: string, integer, number, boolean, date, datetime, json, ref; did you mean 'string'?",
            "systems.crm.connection.path: environment variable 'CRM_DB' is not set; export it or write ${CRM_DB:-default}",
            "systems.crm.entities.customer.fields.emial: unknown canonical field 'emial' (customer has: rep)",
            "systems.crm.entities.customer.filter.country: unknown canonical field 'country' (customer has: rep)",
            "systems.crm.entities.customer.deletes.pull: unknown pull delete policy 'never'; expected one of: propagate, ignore, restore",
            #"systems.erp: missing required key 'connection' (postgres needs {"url": "postgres://user:${PGPASSWORD}@host/db"} or host, database, user, password)"#,
            "systems.erp.entities.custmer: unknown entity 'custmer' (declared: customer); did you mean 'customer'?",
            "entities.customer.fields.rep.entity: ref to unknown entity 'employee' (declared: customer)",
            "entities.customer.match[0][0]: unknown canonical field 'mail' (customer has: rep)",
        ])
        #expect(found.count == 11)
        // Every problem points into the file.
        #expect(found.allSatisfy { $0.position != nil })
        #expect(found.first?.position == SourcePosition(line: 3, column: 11))
    }
}

@Suite struct NewestWithoutChangeTimesTests {
    static func text(conflicts: String, appCursor: Bool = false) -> String {
        """
        {"version": 1,
         "entities": {"customer": {"fields": {"email": {"type": "string"}, "name": {"type": "string"}}, "match": [["email"]]\(conflicts)}},
         "systems": {
           "app": {"adapter": "jsonl", "entities": {"customer": {"object": "a"\(appCursor ? #", "cursor": "at""# : ""), "fields": {"email": "email", "name": "name"}}}},
           "sheet": {"adapter": "csv", "entities": {"customer": {"object": "s.csv", "fields": {"email": "Email", "name": "Name"}}}}
         }}
        """
    }

    @Test func newestBetweenSystemsWithoutChangeTimesWarnsThatThePriorityListDecides() throws {
        let w = warnings(Self.text(conflicts: ""))
        #expect(w.count == 1)
        #expect(w.first?.hasPrefix("entities.customer: 'newest' settles conflicts of customer between app, sheet, which have no change times") == true,
                "\(w)")
    }

    @Test func aPriorityListOrAChangeTimeSilencesIt() throws {
        #expect(warnings(Self.text(conflicts: #", "conflicts": {"resolve": "newest", "priority": ["sheet"]}"#)).isEmpty)
        #expect(warnings(Self.text(conflicts: "", appCursor: true)).isEmpty)
        #expect(warnings(Self.text(conflicts: #", "conflicts": {"resolve": "manual"}"#)).isEmpty)
    }
}
