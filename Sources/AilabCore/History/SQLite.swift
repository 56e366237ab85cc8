import CSQLite

/// One connection to an SQLite file: statements with bound values, rows of values. Every call is
/// bounded by the busy timeout; an error carries SQLite's code and message.
final class SQLite {
    enum Value: Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)

        var text: String? { if case .text(let value) = self { value } else { nil } }
        var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
        var real: Double? {
            switch self {
            case .real(let value): value
            case .integer(let value): Double(value)
            default: nil
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let code: Int32
        let message: String
        var description: String { message }
        /// Not a database, or a damaged one: set aside, never repaired in place.
        var isCorrupt: Bool { code & 0xff == SQLITE_CORRUPT || code & 0xff == SQLITE_NOTADB }
    }

    private let handle: OpaquePointer

    /// Opens (or creates) the file without following a link, waiting up to `busy` for a lock.
    init(path: String, busy: Duration) throws {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard let opened else { throw Failure(code: code, message: "cannot open \(path)") }
        guard code == SQLITE_OK else {
            let failure = Failure(code: sqlite3_extended_errcode(opened), message: String(cString: sqlite3_errmsg(opened)))
            sqlite3_close_v2(opened)
            throw failure
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(busy.components.seconds * 1000 + busy.components.attoseconds / 1_000_000_000_000_000))
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs statements that return no rows (schema, pragmas, BEGIN and COMMIT).
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else { throw failure(code, message.map { String(cString: $0) }) }
    }

    /// One statement with its values bound in order; its rows.
    @discardableResult
    func rows(_ sql: String, _ values: [Value] = []) throws -> [[Value]] {
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else { throw failure(prepared) }
        defer { sqlite3_finalize(statement) }
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            let bound: Int32
            switch value {
            case .null: bound = sqlite3_bind_null(statement, position)
            case .integer(let number): bound = sqlite3_bind_int64(statement, position, number)
            case .real(let number): bound = sqlite3_bind_double(statement, position, number)
            case .text(let text): bound = sqlite3_bind_text(statement, position, text, -1, Self.transient)
            }
            guard bound == SQLITE_OK else { throw failure(bound) }
        }
        var result: [[Value]] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { return result }
            guard step == SQLITE_ROW else { throw failure(step) }
            result.append((0..<sqlite3_column_count(statement)).map { column(statement, $0) })
        }
    }

    /// The rows the last statement changed.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last row inserted on this connection.
    var lastRow: Int64 { sqlite3_last_insert_rowid(handle) }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> Value {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: sqlite3_column_text(statement, index).map { .text(String(cString: $0)) } ?? .null
        default: .null
        }
    }

    private func failure(_ code: Int32, _ message: String? = nil) -> Failure {
        Failure(code: sqlite3_extended_errcode(handle), message: message ?? String(cString: sqlite3_errmsg(handle)))
    }

    /// SQLITE_TRANSIENT: SQLite copies the text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
