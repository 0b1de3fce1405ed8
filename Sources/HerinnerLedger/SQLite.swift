import CSQLite
import Foundation
import HerinnerCore

/// A thin owner of one `sqlite3*` connection. Not Sendable: one per thread.
final class Database {
  let handle: OpaquePointer

  init(path: String, flags: Int32) throws(LedgerError) {
    var db: OpaquePointer?
    let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nil)
    guard rc == SQLITE_OK, let db else {
      let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
      if let db { sqlite3_close_v2(db) }
      throw LedgerError(
        code: .unavailable,
        message:
          "cannot open the ledger \(path): \(msg); check that its folder exists and is writable",
        resultCode: rc)
    }
    handle = db
    sqlite3_busy_timeout(db, 10_000)
    sqlite3_extended_result_codes(db, 1)
  }

  deinit { sqlite3_close_v2(handle) }

  var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

  func execute(_ sql: String) throws(LedgerError) {
    var err: UnsafeMutablePointer<CChar>?
    let rc = sqlite3_exec(handle, sql, nil, nil, &err)
    if rc != SQLITE_OK {
      let msg = err.map { String(cString: $0) } ?? lastMessage
      sqlite3_free(err)
      throw LedgerError(code: rc, message: "ledger: \(msg)", sql: sql)
    }
  }

  func prepare(_ sql: String) throws(LedgerError) -> Statement {
    var stmt: OpaquePointer?
    let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
    guard rc == SQLITE_OK, let stmt else {
      throw LedgerError(code: rc, message: "ledger: \(lastMessage)", sql: sql)
    }
    return Statement(db: self, stmt: stmt, sql: sql)
  }

  /// Runs `body` in one transaction (BEGIN IMMEDIATE: takes the write lock up front).
  func transaction<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
    try execute("BEGIN IMMEDIATE")
    do {
      let r = try body()
      try execute("COMMIT")
      return r
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  var changes: Int { Int(sqlite3_changes(handle)) }
  var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle) }
}

enum SQLValue {
  case null
  case int(Int64)
  case text(String)
}

protocol SQLBindable {
  var sqlValue: SQLValue { get }
}
extension String: SQLBindable { var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { var sqlValue: SQLValue { .int(self) } }
extension Bool: SQLBindable { var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
  var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

final class Statement {
  let db: Database
  let stmt: OpaquePointer
  let sql: String

  init(db: Database, stmt: OpaquePointer, sql: String) {
    self.db = db
    self.stmt = stmt
    self.sql = sql
  }

  deinit { sqlite3_finalize(stmt) }

  func bind(_ values: [any SQLBindable]) throws(LedgerError) {
    sqlite3_reset(stmt)
    sqlite3_clear_bindings(stmt)
    for (i, v) in values.enumerated() {
      let idx = Int32(i + 1)
      let rc: Int32
      switch v.sqlValue {
      case .null: rc = sqlite3_bind_null(stmt, idx)
      case .int(let n): rc = sqlite3_bind_int64(stmt, idx, n)
      case .text(let s): rc = sqlite3_bind_text(stmt, idx, s, -1, herinner_sqlite_transient())
      }
      guard rc == SQLITE_OK else {
        throw LedgerError(code: rc, message: "ledger: \(db.lastMessage)", sql: sql)
      }
    }
  }

  /// Runs a statement that returns no rows.
  func run(_ values: [any SQLBindable] = []) throws(LedgerError) {
    try bind(values)
    let rc = sqlite3_step(stmt)
    guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
      throw LedgerError(code: rc, message: "ledger: \(db.lastMessage)", sql: sql)
    }
    sqlite3_reset(stmt)
  }

  /// Runs a query, calling `row` for each result row.
  func query(_ values: [any SQLBindable] = [], _ row: (Row) throws(LedgerError) -> Void)
    throws(LedgerError)
  {
    try bind(values)
    while true {
      let rc = sqlite3_step(stmt)
      if rc == SQLITE_DONE { break }
      guard rc == SQLITE_ROW else {
        throw LedgerError(code: rc, message: "ledger: \(db.lastMessage)", sql: sql)
      }
      try row(Row(stmt: stmt))
    }
    sqlite3_reset(stmt)
  }
}

struct Row {
  let stmt: OpaquePointer
  func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
  func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
  func text(_ i: Int32) -> String {
    guard let p = sqlite3_column_text(stmt, i) else { return "" }
    return String(cString: p)
  }
  func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
  func optionalInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }
}
