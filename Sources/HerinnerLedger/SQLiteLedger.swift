import CSQLite
import Foundation
import HerinnerCore

/// The delivery ledger on a SQLite file: versioned schema, WAL, durable commits.
///
/// Invariant in the schema: at most one live (sending, sent or unknown) original delivery per
/// invoice and step, so no code path can record the same reminder twice.
public final class SQLiteLedger: LedgerStore {
  let db: Database
  public let path: String
  public let readOnly: Bool
  let clock: WallClock

  /// Opens (and creates, and migrates) the ledger for writing.
  public init(path: String, clock: WallClock = .system) throws(LedgerError) {
    self.path = path
    self.readOnly = false
    self.clock = clock
    db = try Database(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
    try db.execute("PRAGMA journal_mode=WAL")
    // FULL: a committed `sending` survives power loss, not only a crash of this process.
    try db.execute("PRAGMA synchronous=FULL")
    try db.execute("PRAGMA foreign_keys=ON")
    try migrate()
  }

  /// Opens an existing ledger read-only without creating any file (for dry runs and reports);
  /// nil when there is no ledger yet.
  public static func openForReading(path: String, clock: WallClock = .system) throws(LedgerError)
    -> SQLiteLedger?
  {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    return try SQLiteLedger(readingFrom: path, clock: clock)
  }

  init(readingFrom path: String, clock: WallClock) throws(LedgerError) {
    self.path = path
    self.readOnly = true
    self.clock = clock
    // With no WAL in use the file is read as immutable, so SQLite creates no -shm/-wal beside it.
    let walInUse =
      ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0) > 0
    let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    let uri = "file:\(encoded)?mode=ro" + (walInUse ? "" : "&immutable=1")
    db = try Database(path: uri, flags: SQLITE_OPEN_READONLY)
    let v = try userVersion()
    guard v <= Self.schemaVersion else { throw Self.tooNew(path, v) }
  }

  static func tooNew(_ path: String, _ version: Int) -> LedgerError {
    LedgerError(
      code: .schemaTooNew,
      message:
        "the ledger \(path) has schema \(version), newer than this herinner (\(schemaVersion)): update herinner"
    )
  }

  func userVersion() throws(LedgerError) -> Int {
    var v = 0
    try db.prepare("PRAGMA user_version").query { (r) throws(LedgerError) in v = Int(r.int(0)) }
    return v
  }

  func migrate() throws(LedgerError) {
    try db.transaction { () throws(LedgerError) in
      let v = try userVersion()
      guard v <= Self.migrations.count else { throw Self.tooNew(path, v) }
      for (i, sql) in Self.migrations.enumerated().dropFirst(v) {
        try db.execute(sql)
        try db.execute("PRAGMA user_version = \(i + 1)")
      }
    }
  }

  /// The ledger's stamp for now, from the injected clock.
  func stamp() -> String { LedgerTimestamp.string(clock.now()) }

  /// The stamp for `date` (the payments records).
  static func timestamp(_ date: Date = Date()) -> String { LedgerTimestamp.string(date) }
}
