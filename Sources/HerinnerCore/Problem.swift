/// A problem in the user's input, with its place: file, line (the record's first line) and field.
public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
  public var file: String
  public var line: Int?
  public var field: String?
  public var message: String

  public init(file: String, line: Int? = nil, field: String? = nil, message: String) {
    self.file = file
    self.line = line
    self.field = field
    self.message = message
  }

  /// `invoices.csv:14: due: not a date: "31-02-2026"`.
  public var description: String {
    var s = file
    if let line { s += ":\(line)" }
    s += ": "
    if let field { s += "\(field): " }
    return s + message
  }
}

/// Several problems at once (everything `check` finds).
public struct Problems: Error, Sendable, CustomStringConvertible {
  public var all: [Problem]
  public init(_ all: [Problem]) { self.all = all }
  public var description: String { all.map(\.description).joined(separator: "\n") }
}
