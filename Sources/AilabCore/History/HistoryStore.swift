import FoundationEssentials

#if canImport(Glibc)
    import Glibc
#endif

/// History in `ailab.db` under the state folder (`$AILAB_STATE_DIR`, default /var/lib/ailab):
/// SQLite in WAL mode, the file root's alone (0600 in a 0700 folder made through SafeFolder).
/// Concurrent runs queue on SQLite's write lock for up to `busy`; a file SQLite calls corrupt is
/// renamed aside and a new one started.
package struct HistoryStore: History {
    package static let fileName = "ailab.db"
    /// Past this size the oldest tenth of the runs goes, whatever their age.
    package static let sizeCap: Int64 = 64 << 20
    /// A channel that keeps failing holds at most this many changes: the newest.
    package static let outboxCap = 200

    package let folder: String
    package let busy: Duration
    package let clock: @Sendable () -> Date

    package init(folder: String, busy: Duration = .seconds(5), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.folder = folder
        self.busy = busy
        self.clock = clock
    }

    package var path: String { folder + "/" + Self.fileName }

    package func keep(_ report: Report, _ keeping: Keeping) throws -> Kept {
        let (kept, notice) = try withDatabase(creating: true) { database -> (Report, [Transition]) in
            guard let database else { return (report, []) }
            try database.execute("BEGIN IMMEDIATE")
            do {
                if let boot = keeping.boot { try Self.keepEvents(report, boot: boot, in: database) }
                let now = report.finishedAt.timeIntervalSince1970
                let recollection = Recollection(
                    acknowledgements: try Self.acknowledgements(task: report.task, in: database),
                    events: try Self.events(since: now - Escalation.window, in: database))
                let decided = keeping.decide(report, recollection)
                for ended in decided.ended {
                    try database.rows("DELETE FROM acknowledgements WHERE task = ? AND name = ?", [.text(ended.task), .text(ended.check)])
                }
                let changes = try Self.record(decided.report, invocation: keeping.invocation, in: database)
                let cutoff = clock().timeIntervalSince1970 - Double(keeping.keepDays) * 86_400
                try database.rows("DELETE FROM transitions WHERE at < ?", [.real(cutoff)])
                try database.rows("DELETE FROM runs WHERE finished < ?", [.real(cutoff)])
                try database.rows("DELETE FROM events WHERE last_seen < ?", [.real(cutoff)])
                try database.rows("DELETE FROM outbox WHERE at < ?", [.real(cutoff)])
                try database.execute("COMMIT")
                try trimToSize(database)
                return (decided.report, changes)
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
        return Kept(report: kept.0, transitions: kept.1, notice: notice)
    }

    package func find(_ query: HistoryQuery) throws -> Found {
        try withDatabase(creating: false) { database -> Found in
            guard let database else { return Found() }
            let since = SQLite.Value.real(query.since.timeIntervalSince1970)
            let task = query.task.map { SQLite.Value.text($0) } ?? .null
            let check = query.check.map { SQLite.Value.text($0) } ?? .null
            let runs = try database.rows(
                """
                SELECT task, started, finished, exit_code, dry_run FROM runs
                WHERE finished >= ?1 AND (?2 IS NULL OR task = ?2) ORDER BY finished, id
                """, [since, task]
            ).map { row in
                RunRecord(
                    task: row[0].text ?? "", startedAt: Date(timeIntervalSince1970: row[1].real ?? 0),
                    finishedAt: Date(timeIntervalSince1970: row[2].real ?? 0), exitCode: Int(row[3].integer ?? 0),
                    dryRun: row[4].integer.map { $0 != 0 })
            }
            let transitions = try database.rows(
                """
                SELECT task, section, name, from_status, to_status, at, detail FROM transitions
                WHERE at >= ?1 AND (?2 IS NULL OR task = ?2) AND (?3 IS NULL OR name = ?3) ORDER BY at, id
                """, [since, task, check]
            ).map(Self.transition)
            // Events are healthcheck's; a query for another task or for a check's changes has none.
            let events =
                query.check == nil && (query.task ?? "healthcheck") == "healthcheck"
                ? try Self.events(since: query.since.timeIntervalSince1970, in: database) : []
            return Found(runs: runs, transitions: transitions, events: events)
        }.result
    }

    package func lastCheck(task: String, name: String) throws -> Check? {
        try withDatabase(creating: false) { database -> Check? in
            guard let database else { return nil }
            let row = try database.rows(
                "SELECT section, status, detail, recurring FROM checks WHERE task = ? AND name = ? ORDER BY seen DESC LIMIT 1",
                [.text(task), .text(name)]
            ).first
            guard let row, let status = row[1].text.flatMap(Status.init) else { return nil }
            var check = Check(name, status, row[2].text ?? "", section: row[0].text.flatMap { $0.isEmpty ? nil : $0 })
            check.recurring = row[3].integer == 1
            return check
        }.result
    }

    package func acknowledge(_ acknowledgement: Acknowledgement) throws {
        _ = try withDatabase(creating: true) { database in
            try database?.rows(
                "INSERT OR REPLACE INTO acknowledgements(task, name, reason, by_user, at, until, status, recurring) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(acknowledgement.task), .text(acknowledgement.check), .text(acknowledgement.reason), .text(acknowledgement.by),
                    .real(acknowledgement.at.timeIntervalSince1970), .real(acknowledgement.until.timeIntervalSince1970),
                    .text(acknowledgement.status.rawValue), .integer(acknowledgement.recurring ? 1 : 0),
                ])
        }
    }

    package func acknowledgements() throws -> [Acknowledgement] {
        try withDatabase(creating: false) { database in
            try database.map { try Self.acknowledgements(task: nil, in: $0) } ?? []
        }.result
    }

    package func unacknowledge(task: String, check: String) throws -> Bool {
        try withDatabase(creating: true) { database -> Bool in
            guard let database else { return false }
            try database.rows("DELETE FROM acknowledgements WHERE task = ? AND name = ?", [.text(task), .text(check)])
            return database.changes > 0
        }.result
    }

    package func tell(task: String, channels: [String], _ decide: (_ told: [Told]) -> Telling) throws {
        _ = try withDatabase(creating: true) { database in
            guard let database else { return }
            try database.execute("BEGIN IMMEDIATE")
            do {
                let told = try database.rows("SELECT section, name, status, at FROM told WHERE task = ? ORDER BY rowid", [.text(task)])
                    .compactMap { row -> Told? in
                        guard let status = row[2].text.flatMap(Status.init) else { return nil }
                        return Told(
                            section: row[0].text.flatMap { $0.isEmpty ? nil : $0 }, check: row[1].text ?? "", status: status,
                            at: Date(timeIntervalSince1970: row[3].real ?? 0))
                    }
                let telling = decide(told)
                try database.rows("DELETE FROM told WHERE task = ?", [.text(task)])
                for kept in telling.told {
                    try database.rows(
                        "INSERT OR REPLACE INTO told(task, section, name, status, at) VALUES (?, ?, ?, ?, ?)",
                        [
                            .text(task), .text(kept.section ?? ""), .text(kept.check), .text(kept.status.rawValue),
                            .real(kept.at.timeIntervalSince1970),
                        ])
                }
                let encoder = JSONEncoder()
                for change in telling.changes {
                    let text = String(decoding: try encoder.encode(change), as: UTF8.self)
                    for channel in channels {
                        try database.rows(
                            "INSERT INTO outbox(channel, change, at) VALUES (?, ?, ?)",
                            [.text(channel), .text(text), .real(change.at.timeIntervalSince1970)])
                    }
                }
                for channel in channels {
                    try database.rows(
                        "DELETE FROM outbox WHERE channel = ?1 AND id NOT IN (SELECT id FROM outbox WHERE channel = ?1 ORDER BY id DESC LIMIT ?2)",
                        [.text(channel), .integer(Int64(Self.outboxCap))])
                }
                try database.execute("COMMIT")
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
    }

    package func queued(channel: String) throws -> [Queued] {
        try withDatabase(creating: false) { database -> [Queued] in
            guard let database else { return [] }
            let decoder = JSONDecoder()
            return try database.rows("SELECT id, change FROM outbox WHERE channel = ? ORDER BY id", [.text(channel)]).compactMap { row in
                guard let id = row[0].integer, let text = row[1].text,
                    let change = try? decoder.decode(NotifyChange.self, from: Data(text.utf8))
                else { return nil }
                return Queued(id: id, change: change)
            }
        }.result
    }

    package func sent(_ ids: [Int64]) throws {
        _ = try withDatabase(creating: false) { database in
            for id in ids { try database?.rows("DELETE FROM outbox WHERE id = ?", [.integer(id)]) }
        }
    }

    package func ran(invocation: String) throws -> Bool {
        try withDatabase(creating: false) { database in
            try database?.rows("SELECT 1 FROM runs WHERE invocation = ? LIMIT 1", [.text(invocation)]).isEmpty == false
        }.result
    }

    /// One of ailab's records (StoreRecords); nil when the store holds none.
    package func record(_ name: String) throws -> String? {
        try withDatabase(creating: false) { database in
            try database?.rows("SELECT text FROM records WHERE name = ?", [.text(name)]).first?.first?.text
        }.result
    }

    package func keepRecord(_ name: String, _ text: String) throws {
        _ = try withDatabase(creating: true) { database in
            try database?.rows(
                "INSERT OR REPLACE INTO records(name, text, at) VALUES (?, ?, ?)",
                [.text(name), .text(text), .real(clock().timeIntervalSince1970)])
        }
    }

    private static func acknowledgements(task: String?, in database: SQLite) throws -> [Acknowledgement] {
        try database.rows(
            """
            SELECT task, name, reason, by_user, at, until, status, recurring FROM acknowledgements
            WHERE ?1 IS NULL OR task = ?1 ORDER BY task, name
            """, [task.map { .text($0) } ?? .null]
        ).map { row in
            Acknowledgement(
                task: row[0].text ?? "", check: row[1].text ?? "", reason: row[2].text ?? "", by: row[3].text ?? "",
                at: Date(timeIntervalSince1970: row[4].real ?? 0), until: Date(timeIntervalSince1970: row[5].real ?? 0),
                status: row[6].text.flatMap(Status.init) ?? .failed, recurring: row[7].integer == 1)
        }
    }

    /// This boot's events as the run read them: a later run's count replaces an earlier one's
    /// (the log of a boot only grows), never lowers it (a rotated journal).
    private static func keepEvents(_ report: Report, boot: String, in database: SQLite) throws {
        let at = SQLite.Value.real(report.finishedAt.timeIntervalSince1970)
        for event in report.findings.events ?? [] {
            try database.rows(
                """
                INSERT INTO events(boot, kind, device, count, status, hardware, check_name, first_seen, last_seen)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                ON CONFLICT(boot, kind, device) DO UPDATE SET count = max(count, excluded.count), status = excluded.status,
                    hardware = excluded.hardware, check_name = excluded.check_name, last_seen = excluded.last_seen
                """,
                [
                    .text(boot), .text(event.kind), .text(event.device), .integer(Int64(event.count)), .text(event.status.rawValue),
                    .integer(event.hardware ? 1 : 0), .text(event.check), at,
                ])
        }
    }

    private static func events(since: Double, in database: SQLite) throws -> [KeptEvent] {
        try database.rows(
            """
            SELECT boot, kind, device, count, status, hardware, check_name, first_seen, last_seen FROM events
            WHERE last_seen >= ? ORDER BY first_seen, kind, device
            """, [.real(since)]
        ).map { row in
            KeptEvent(
                boot: row[0].text ?? "",
                event: LoggedEvent(
                    kind: row[1].text ?? "", device: row[2].text ?? "", count: Int(row[3].integer ?? 0),
                    status: row[4].text.flatMap(Status.init) ?? .warning, check: row[6].text ?? "", hardware: row[5].integer == 1),
                firstSeen: Date(timeIntervalSince1970: row[7].real ?? 0), lastSeen: Date(timeIntervalSince1970: row[8].real ?? 0))
        }
    }

    /// The run, then each check against the state its task left last time: first seen, changed,
    /// or gone. A run that stopped early changes no check's state.
    private static func record(_ report: Report, invocation: String?, in database: SQLite) throws -> [Transition] {
        let mode = SQLite.Value.text(report.dryRun.map { $0 ? "dry-run" : "execute" } ?? "report")
        let at = report.finishedAt.timeIntervalSince1970
        try database.rows(
            "INSERT INTO runs(task, started, finished, exit_code, dry_run, invocation) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .text(report.task), .real(report.startedAt.timeIntervalSince1970), .real(at),
                .integer(Int64(report.exitStatus.rawValue)), report.dryRun.map { .integer($0 ? 1 : 0) } ?? .null,
                invocation.map { .text($0) } ?? .null,
            ])
        let run = database.lastRow
        guard report.stop == nil else { return [] }
        let known = try database.rows("SELECT section, name, status FROM checks WHERE task = ? AND mode = ?", [.text(report.task), mode])
        var before: [String: (section: String, name: String, status: Status)] = [:]
        for row in known {
            guard let section = row[0].text, let name = row[1].text, let status = row[2].text.flatMap(Status.init) else { continue }
            before[section + "\u{0}" + name] = (section, name, status)
        }
        var changes: [Transition] = []
        var seen = Set<String>()
        for check in report.checks {
            let section = check.section ?? ""
            let key = section + "\u{0}" + check.name
            guard seen.insert(key).inserted else { continue }
            let previous = before[key]?.status
            if previous != check.status {
                changes.append(
                    Transition(
                        task: report.task, section: check.section, check: check.name, from: previous, to: check.status,
                        at: report.finishedAt, detail: check.detail))
            }
            try database.rows(
                "INSERT OR REPLACE INTO checks(task, mode, section, name, status, detail, recurring, seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(report.task), mode, .text(section), .text(check.name), .text(check.status.rawValue), .text(check.detail),
                    .integer(check.recurring ? 1 : 0), .real(at),
                ])
        }
        for (key, gone) in before where !seen.contains(key) {
            changes.append(
                Transition(
                    task: report.task, section: gone.section.isEmpty ? nil : gone.section, check: gone.name, from: gone.status,
                    to: nil, at: report.finishedAt, detail: "no longer in the report"))
            try database.rows(
                "DELETE FROM checks WHERE task = ? AND mode = ? AND section = ? AND name = ?",
                [.text(report.task), mode, .text(gone.section), .text(gone.name)])
        }
        for change in changes {
            try database.rows(
                "INSERT INTO transitions(run, task, section, name, from_status, to_status, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .integer(run), .text(change.task), .text(change.section ?? ""), .text(change.check),
                    change.from.map { .text($0.rawValue) } ?? .null, change.to.map { .text($0.rawValue) } ?? .null,
                    .real(at), .text(change.detail),
                ])
        }
        return changes
    }

    private static func transition(_ row: [SQLite.Value]) -> Transition {
        Transition(
            task: row[0].text ?? "", section: row[1].text.flatMap { $0.isEmpty ? nil : $0 }, check: row[2].text ?? "",
            from: row[3].text.flatMap(Status.init), to: row[4].text.flatMap(Status.init),
            at: Date(timeIntervalSince1970: row[5].real ?? 0), detail: row[6].text ?? "")
    }

    /// Past the size cap, the oldest tenth of the runs and their changes go, and the freed pages
    /// go back to the file system.
    private func trimToSize(_ database: SQLite) throws {
        let pages = try database.rows("PRAGMA page_count").first?.first?.integer ?? 0
        let size = try database.rows("PRAGMA page_size").first?.first?.integer ?? 4096
        guard pages * size > Self.sizeCap else { return }
        let count = try database.rows("SELECT count(*) FROM runs").first?.first?.integer ?? 0
        let oldest = try database.rows("SELECT finished FROM runs ORDER BY finished LIMIT 1 OFFSET ?", [.integer(max(1, count / 10))])
        guard let cutoff = oldest.first?.first else { return }
        try database.rows("DELETE FROM transitions WHERE at < ?", [cutoff])
        try database.rows("DELETE FROM runs WHERE finished < ?", [cutoff])
        try database.rows("DELETE FROM events WHERE last_seen < ?", [cutoff])
        try database.rows("PRAGMA incremental_vacuum")
    }

    /// Opens the store (made when `creating`, else nil when there is none), with its schema, for
    /// `body`. When writing, a file SQLite calls corrupt is kept aside as `ailab.db.corrupt-<time>`
    /// and the work done on a new one; the notice then says so. A reader only reports it.
    private func withDatabase<T>(creating: Bool, _ body: (SQLite?) throws -> T) throws -> (result: T, notice: String?) {
        do {
            return (try body(try open(creating: creating)), nil)
        } catch let failure as SQLite.Failure where failure.isCorrupt && creating {
            let aside = path + ".corrupt-\(Int(clock().timeIntervalSince1970))"
            guard rename(path, aside) == 0 else { throw failure }
            unlink(path + "-wal")
            unlink(path + "-shm")
            let result = try body(try open(creating: creating))
            return (result, "the history store was damaged (\(failure)); it is kept aside as \(aside) and a new one started")
        }
    }

    private func open(creating: Bool) throws -> SQLite? {
        if !creating && access(folder, F_OK) != 0 && errno == ENOENT { return nil }
        let state = try SafeFolder.open(folder, creating: creating ? 0o700 : nil)
        defer { close(state) }
        // Made here, 0600 and without following a link, so that SQLite never creates it with the umask's mode.
        let file = openat(state, Self.fileName, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (creating ? O_CREAT : 0), 0o600)
        guard file >= 0 else {
            if errno == ENOENT && !creating { return nil }
            throw AilabError.failed("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        let trusted = fstat(file, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG && status.st_uid == geteuid()
        close(file)
        guard trusted else { throw AilabError.failed("\(path) is not a regular file of ailab's own user") }
        let database = try SQLite(path: path, busy: busy)
        try Self.prepare(database)
        return database
    }

    private static func prepare(_ database: SQLite) throws {
        try database.execute("PRAGMA auto_vacuum = INCREMENTAL")
        try database.rows("PRAGMA journal_mode = WAL")
        try database.execute(
            """
            PRAGMA synchronous = NORMAL;
            CREATE TABLE IF NOT EXISTS runs(
                id INTEGER PRIMARY KEY, task TEXT NOT NULL, started REAL NOT NULL, finished REAL NOT NULL,
                exit_code INTEGER NOT NULL, dry_run INTEGER, invocation TEXT);
            CREATE INDEX IF NOT EXISTS runs_by_time ON runs(finished);
            CREATE TABLE IF NOT EXISTS checks(
                task TEXT NOT NULL, mode TEXT NOT NULL, section TEXT NOT NULL, name TEXT NOT NULL,
                status TEXT NOT NULL, detail TEXT NOT NULL, recurring INTEGER NOT NULL, seen REAL NOT NULL,
                PRIMARY KEY(task, mode, section, name));
            CREATE TABLE IF NOT EXISTS transitions(
                id INTEGER PRIMARY KEY, run INTEGER NOT NULL, task TEXT NOT NULL, section TEXT NOT NULL,
                name TEXT NOT NULL, from_status TEXT, to_status TEXT, at REAL NOT NULL, detail TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS transitions_by_time ON transitions(at);
            CREATE TABLE IF NOT EXISTS events(
                boot TEXT NOT NULL, kind TEXT NOT NULL, device TEXT NOT NULL, count INTEGER NOT NULL, status TEXT NOT NULL,
                hardware INTEGER NOT NULL, check_name TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
                PRIMARY KEY(boot, kind, device));
            CREATE INDEX IF NOT EXISTS events_by_time ON events(last_seen);
            CREATE TABLE IF NOT EXISTS acknowledgements(
                task TEXT NOT NULL, name TEXT NOT NULL, reason TEXT NOT NULL, by_user TEXT NOT NULL, at REAL NOT NULL,
                until REAL NOT NULL, status TEXT NOT NULL, recurring INTEGER NOT NULL, PRIMARY KEY(task, name));
            CREATE TABLE IF NOT EXISTS records(name TEXT PRIMARY KEY, text TEXT NOT NULL, at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS told(
                task TEXT NOT NULL, section TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, at REAL NOT NULL,
                PRIMARY KEY(task, section, name));
            CREATE TABLE IF NOT EXISTS outbox(id INTEGER PRIMARY KEY, channel TEXT NOT NULL, change TEXT NOT NULL, at REAL NOT NULL);
            """)
        // A store from before notifications: its runs gain the unit run's id.
        let columns = try database.rows("SELECT name FROM pragma_table_info('runs')").compactMap { $0.first?.text }
        if !columns.contains("invocation") { try database.execute("ALTER TABLE runs ADD COLUMN invocation TEXT") }
    }
}
