import HubTestServers

extension TestHubStore {
    /// Appended to a battery test's scorecard row: a PostgreSQL hub's figures are a row of their
    /// own (`T4-postgres-hub`), held to the same rules by `.ci/scorecard.py`.
    var scorecardSuffix: String { self == .postgres ? "-postgres-hub" : "" }
}
