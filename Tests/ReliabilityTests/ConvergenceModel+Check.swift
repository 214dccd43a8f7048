import Foundation
import GRDB
import HubCore

/// The oracles of T3, run after the two quiet syncs: every system against the model.
extension ConvergenceModel {
    /// Compares every system with the model and adds duplicates, lost updates, dangling
    /// references, divergent systems and open quarantine entries to the figures; returns what differed.
    func check() throws -> [String] {
        var problems: [String] = []
        var lost: Set<String> = []
        for s in System.allCases {
            var diverged = false
            // Customers, by normalised email.
            let byEmail = try index(s, .customer, model: Set(customers.keys), &problems, &diverged)
            var emailByID: [String: String] = [:]
            for (email, row) in byEmail { emailByID[row.id] = email }
            for (email, customer) in customers {
                guard let row = byEmail[email] else { continue }
                let expected = columns(s, email: nil, customer.values)
                for (column, value) in expected where (row.columns[column] ?? nil) != value {
                    diverged = true
                    problems.append("\(s): customer \(email) \(column) = \(String(describing: row.columns[column] ?? nil)), model \(String(describing: value))")
                    for field in s.customerFields where Self.column(s, field) == column && everEdited.contains("c:\(email)|\(field.rawValue)") {
                        lost.insert("c:\(email)|\(field.rawValue)")
                    }
                }
            }
            // Orders, by number; the reference resolved to the customer's email in the same system.
            let refColumn = ConvergenceWorld.referenceColumn(s)
            let byNumber = try index(s, .order, model: Set(orders.keys), &problems, &diverged)
            for (number, row) in byNumber {
                if let ref = row.columns[refColumn] ?? nil, emailByID[ref] == nil {
                    figures[.danglingRefs] += 1
                    problems.append("\(s): order \(number) refers to missing customer \(ref)")
                }
            }
            for (number, order) in orders {
                guard let row = byNumber[number] else { continue }
                let customer = (row.columns[refColumn] ?? nil).flatMap { emailByID[$0] }
                if customer != order.customer {
                    diverged = true
                    problems.append("\(s): order \(number) → \(customer ?? "nil"), model \(order.customer)")
                    if everEdited.contains("o:\(number)|customer") { lost.insert("o:\(number)|customer") }
                }
                let amount = (row.columns[s == .sheet ? "Amount" : "amount"] ?? nil).flatMap { Int($0) }
                if amount != order.amount {
                    diverged = true
                    problems.append("\(s): order \(number) amount \(amount.map(String.init) ?? "nil"), model \(order.amount)")
                    if everEdited.contains("o:\(number)|amount") { lost.insert("o:\(number)|amount") }
                }
            }
            if diverged { figures[.divergentSystems] += 1 }
        }
        // Every losing edit is a conflict the hub recorded.
        let recorded = try recordedConflicts()
        for (key, field) in expectedConflicts where !recorded.contains(key + "|" + field) {
            let live = key.hasPrefix("c:") ? customers[String(key.dropFirst(2))] != nil : orders[String(key.dropFirst(2))] != nil
            if live {
                lost.insert(key + "|" + field)
                problems.append("the losing edit of \(key) \(field) has no recorded conflict")
            }
        }
        figures[.lostUpdates] += lost.count
        figures[.conflictsExpected] += expectedConflicts.count
        let open = try world.hubRows("SELECT reason, message FROM quarantine WHERE resolved_at IS NULL")
        figures[.quarantinedRemaining] += open.count
        for entry in open { problems.append("open quarantine entry: \((entry["reason"] ?? nil) ?? "") \((entry["message"] ?? nil) ?? "")") }
        return problems
    }

    /// A system's rows by normalised key, counting duplicates, and records missing or extra
    /// against the model's keys.
    func index(_ s: System, _ entity: ConvergenceWorld.Entity, model keys: Set<String>, _ problems: inout [String],
               _ diverged: inout Bool) throws -> [String: ConvergenceWorld.Row] {
        let column = world.object(s, entity).key
        var out: [String: ConvergenceWorld.Row] = [:]
        for row in try world.rows(s, entity) {
            let text = ((row.columns[column] ?? nil) ?? "").trimmingCharacters(in: .whitespaces)
            let key = entity == .customer ? text.lowercased() : text
            if out[key] != nil {
                figures[.duplicates] += 1
                problems.append("\(s): \(entity) \(key) twice")
            }
            out[key] = row
        }
        for key in Set(out.keys).symmetricDifference(keys) {
            diverged = true
            problems.append("\(s): \(entity) \(key) " + (keys.contains(key) ? "missing" : "should not exist"))
        }
        return out
    }

    /// `c:email|field` and `o:number|field` of every conflict the hub recorded.
    func recordedConflicts() throws -> Set<String> {
        let rows = try world.hubRows("SELECT c.field AS field, e.data AS data FROM conflict c JOIN entity e ON e.hub_id = c.hub_id")
        return Set(rows.compactMap { row in
            guard let field = row["field"] ?? nil, case .object(let data)? = try? JSONParser.parse((row["data"] ?? nil) ?? "") else {
                return nil
            }
            if case .string(let email)? = data["email"] { return "c:\(email)|\(field)" }
            if case .string(let number)? = data["number"] { return "o:\(number)|\(field)" }
            return nil
        })
    }
}
