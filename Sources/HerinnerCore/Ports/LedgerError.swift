/// A failure of the delivery ledger, whatever backs it: what went wrong in words an operator
/// can act on, and the backend's own detail (the statement and its result code).
public struct LedgerError: Error, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    /// The ledger cannot be opened or created (a missing folder, no permission, a locked file).
    public static let unavailable = Code("unavailable")
    /// The ledger was written by a newer herinner.
    public static let schemaTooNew = Code("schema-too-new")
    /// A second live original delivery of one invoice and step (the schema's invariant).
    public static let duplicate = Code("duplicate")
    /// Any other failed read or write.
    public static let failed = Code("failed")
  }

  public var code: Code
  /// One line: what went wrong and what to check.
  public var message: String
  /// The statement that failed, where there was one.
  public var sql: String?
  /// The backend's result code (SQLite's extended result code), where there was one.
  public var resultCode: Int32?

  public init(code: Code, message: String, sql: String? = nil, resultCode: Int32? = nil) {
    self.code = code
    self.message = message
    self.sql = sql
    self.resultCode = resultCode
  }

  /// From a SQLite result code: constraint violations (19) are the duplicate invariant.
  public init(code resultCode: Int32, message: String, sql: String? = nil) {
    let code: Code = resultCode & 0xFF == 19 ? .duplicate : resultCode == 0 ? .failed : .failed
    self.init(code: code, message: message, sql: sql, resultCode: resultCode)
  }

  public var description: String { message }
}
