/// The run-to-run state of an incremental read by keyset with a lookback window: what the SQLite
/// and PostgreSQL spokes keep in their cursors between runs (`Column` is how they hold a
/// column value).
///
/// A run reads the rows strictly after ``start`` in (cursor, ID) order, so rows sharing one
/// cursor value (a bulk load) are not read again on every run. Rows can still appear *below*
/// the position after it was read: a long transaction committing an older cursor value, or a
/// row edited again within the same timestamp. The lookback window `L` bounds how late: the
/// assumption is that **every row whose key is at or below a key K is committed within `L` of a
/// read that saw K**. So each run leaves a ``Checkpoint`` (its last key, and a time at or after
/// it was read), and a run starts after the newest checkpoint that was read at least `L` before
/// the *previous* run began reading (``readAt``). Why that is enough:
/// - rows at or below the previous run's start were all read (the same argument, one run back);
/// - rows between that start and the checkpoint were committed before the previous run began
///   (the window had passed), and that run read everything after its start: it saw them.
///
/// Rows read again inside the window are recognised as unchanged by the engine. A bulk-loaded
/// table is read by the first run and the runs within one window after it, then never again.
/// A zero window trusts the keyset alone: each run starts after the previous run's last key.
public struct KeysetRun<Column: Hashable & Sendable>: Hashable, Sendable {
    /// A row's position: its cursor value, then its ID.
    public struct Key: Hashable, Sendable {
        public var value: Column
        public var id: Column
        public init(value: Column, id: Column) {
            self.value = value
            self.id = id
        }
    }

    /// Where a run starts reading rows whose cursor is not NULL.
    public enum Start: Hashable, Sendable {
        /// Every row (the run after a full read's NULL-cursor rows).
        case all
        /// Rows whose cursor is at least this value: a cursor stored before keysets.
        case atLeast(Column)
        /// Rows strictly after this key.
        case after(Key)
    }

    /// The last key a run read, and a time at or after it read it.
    public struct Checkpoint: Hashable, Sendable {
        public var key: Key
        /// Microseconds since 1970 on the database's clock.
        public var readAt: Int64
        public init(key: Key, readAt: Int64) {
            self.key = key
            self.readAt = readAt
        }
    }

    public var start: Start
    /// Newer runs' checkpoints, oldest first; at most ``maxCheckpoints``.
    public var checkpoints: [Checkpoint]
    /// When the run holding this state began reading (µs since 1970, at or before its first
    /// query of the rows after ``start``). Between runs: the previous run's.
    public var readAt: Int64

    /// Checkpoints kept: when more, the newest replaces the one before it (the start then
    /// lags a little; it is never wrong).
    public static var maxCheckpoints: Int { 8 }

    public init(start: Start, checkpoints: [Checkpoint] = [], readAt: Int64 = 0) {
        self.start = start
        self.checkpoints = checkpoints
        self.readAt = readAt
    }

    /// The state of a run beginning to read at `now` after the run that left this state:
    /// its start moves to the newest checkpoint read at least `lookback` seconds before the
    /// previous run began (any checkpoint, with a zero lookback), and older ones are dropped.
    public func beginning(lookback: Double, at now: Int64) -> KeysetRun {
        var run = self
        // Clamped (to about 31,700 years), so that any configured number converts.
        let seconds = lookback.isNaN ? 0 : min(max(0, lookback), 1e12)
        let window = Int64((seconds * 1_000_000).rounded())
        if let newest = checkpoints.lastIndex(where: { window == 0 || $0.readAt <= readAt - window }) {
            run.start = .after(checkpoints[newest].key)
            run.checkpoints.removeFirst(newest + 1)
        }
        run.readAt = now
        return run
    }

    /// The state to keep after a run's last page: `last` is the last key the run read (nil when
    /// it read none), `now` a time at or after that read.
    public func finished(last: Key?, at now: Int64) -> KeysetRun {
        var run = self
        // Nothing read, or the same last key as before: the older checkpoint qualifies sooner.
        guard let last, checkpoints.last?.key != last else { return run }
        run.checkpoints.append(Checkpoint(key: last, readAt: now))
        while run.checkpoints.count > Self.maxCheckpoints { run.checkpoints.remove(at: run.checkpoints.count - 2) }
        return run
    }
}

extension KeysetRun {
    /// The state as members of a cursor's JSON object: `from` (null, `{"v": c}` or `[c, id]`),
    /// `cp` (`[[c, id, µs], …]`) and `read` (µs). Between runs (`withReadAt` false), `read` is
    /// left out when there is no checkpoint to compare it with, so a quiet table's cursor stays
    /// the same text from run to run.
    public func members(withReadAt: Bool, _ encode: (Column) -> Value) -> [String: Value] {
        var o: [String: Value] = [:]
        switch start {
        case .all: o["from"] = .null
        case .atLeast(let v): o["from"] = ["v": encode(v)]
        case .after(let key): o["from"] = [encode(key.value), encode(key.id)]
        }
        o["cp"] = .array(checkpoints.map { [encode($0.key.value), encode($0.key.id), .int($0.readAt)] })
        if withReadAt || !checkpoints.isEmpty { o["read"] = .int(readAt) }
        return o
    }

    /// The state held in a cursor's JSON object; nil when the object holds none (`from` is
    /// missing: a cursor stored before keysets) or it is malformed.
    public init?(members o: [String: Value], _ decode: (Value) -> Column?) {
        guard let from = o["from"] else { return nil }
        func key(_ parts: ArraySlice<Value>) -> Key? {
            guard parts.count == 2, let v = decode(parts[parts.startIndex]), let id = decode(parts[parts.startIndex + 1])
            else { return nil }
            return Key(value: v, id: id)
        }
        switch from {
        case .null: start = .all
        case .object(let f):
            guard f.count == 1, let raw = f["v"], let v = decode(raw) else { return nil }
            start = .atLeast(v)
        case .array(let parts):
            guard let k = key(parts[...]) else { return nil }
            start = .after(k)
        default: return nil
        }
        guard case .array(let list)? = o["cp"] else { return nil }
        var checkpoints: [Checkpoint] = []
        for item in list {
            guard case .array(let parts) = item, parts.count == 3, let k = key(parts[0..<2]),
                  let at = parts[2].intValue else { return nil }
            checkpoints.append(Checkpoint(key: k, readAt: at))
        }
        self.checkpoints = checkpoints
        // Missing: 0, which lets no checkpoint qualify before this run's own read (the safe side).
        switch o["read"] {
        case nil: readAt = 0
        case .int(let t)?: readAt = t
        default: return nil
        }
    }
}
