import HerinnerCore
import Synchronization

/// A night's notes of what each message reached, written as it happens and without a flush:
/// they survive a killed process (the kernel holds them), not a power loss. So a recovery on the
/// same boot trusts them, and one after a reboot does not.
///
/// Order matters: `recording` returns before the group's commit starts, `started` before the
/// first byte of the message's transaction goes to a server, `handedOver` before its end of
/// data (from then on the server may hold it, RFC 5321 §4.1.1.4).
public protocol DeliveryJournal: Sendable {
  /// The message's bytes are about to be written to the archive under `name`.
  func archiving(_ messageKey: String, name: String) throws
  /// The message's bytes were written to the archive at `path` (not yet recorded).
  func archived(_ messageKey: String, path: String) throws
  /// These messages are about to be recorded as `sending` by this run.
  func recording(_ messageKeys: [String]) throws
  /// The message is about to be handed to a server. When this throws, it must not be sent.
  func started(_ messageKey: String) throws
  /// The message's end of data is about to go out. When this throws, it must not.
  func handedOver(_ messageKey: String) throws
  /// The server's verdict (or the transport's failure) arrived.
  func answered(_ messageKey: String, state: DeliveryState, code: Int?, reply: String) throws
}

/// Where the journal lives between runs: the previous run's is read at recovery, then
/// discarded, and only then a new one begun.
public protocol JournalStore {
  /// The previous run's journal as written; nil when there is none.
  func previous() throws -> [UInt8]?
  /// Removes the previous run's journal (after its recovery is durable in the ledger).
  func discard() throws
  /// Starts this run's journal, replacing any previous one.
  func begin(bootID: String) throws -> any DeliveryJournal
}

/// A journal that notes nothing: every interrupted delivery is `unknown` at recovery.
public struct NoJournal: DeliveryJournal {
  public init() {}
  public func archiving(_ messageKey: String, name: String) {}
  public func archived(_ messageKey: String, path: String) {}
  public func recording(_ messageKeys: [String]) {}
  public func started(_ messageKey: String) {}
  public func handedOver(_ messageKey: String) {}
  public func answered(_ messageKey: String, state: DeliveryState, code: Int?, reply: String) {}
}

/// A journal's verdict for one message.
public struct JournalAnswer: Sendable, Hashable {
  public var state: DeliveryState
  public var code: Int?
  public var reply: String
  public init(state: DeliveryState, code: Int?, reply: String) {
    self.state = state
    self.code = code
    self.reply = reply
  }
}

/// What a journal says.
public struct JournalContents: Sendable, Equatable {
  public var bootID: String
  public var recorded: Set<String> = []
  public var started: Set<String> = []
  /// Messages whose end of data was handed to the server.
  public var handedOver: Set<String> = []
  public var answered: [String: JournalAnswer] = [:]
  /// Archive files written, by message key.
  public var archived: [String: String] = [:]
  /// Archive files begun, by message key: their names (in the archive), not their paths.
  public var archiving: [String: String] = [:]
  public init(bootID: String) { self.bootID = bootID }
}

/// The journal's bytes: one record a line, fields separated by tabs, tab, CR, LF and backslash
/// escaped. A line cut short by a crash has no line end and is ignored: its write had not
/// returned, so what it announced had not happened yet.
public enum JournalFormat {
  // 2: with handed-over records; a journal without them cannot tell which started message
  // may have reached the server.
  static let magic = "herinner-journal 2"

  public static func header(bootID: String) -> [UInt8] { line([magic, bootID]) }
  public static func archiving(_ key: String, _ name: String) -> [UInt8] { line(["I", key, name]) }
  public static func archived(_ key: String, _ path: String) -> [UInt8] { line(["W", key, path]) }
  public static func recording(_ key: String) -> [UInt8] { line(["R", key]) }
  public static func started(_ key: String) -> [UInt8] { line(["S", key]) }
  public static func handedOver(_ key: String) -> [UInt8] { line(["D", key]) }
  public static func answered(_ key: String, _ a: JournalAnswer) -> [UInt8] {
    line(["A", key, a.state.rawValue, a.code.map(String.init) ?? "", a.reply])
  }

  /// Pure. Nil when the bytes are not a journal this version wrote in full (wrong header, an
  /// unreadable line): then it proves nothing and recovery treats it as absent.
  public static func parse(_ bytes: [UInt8]) -> JournalContents? {
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    // The part after the last line end is a record cut short (or empty).
    lines.removeLast()
    guard let first = lines.first, let head = fields(first), head.count == 2, head[0] == magic
    else { return nil }
    var c = JournalContents(bootID: head[1])
    for raw in lines.dropFirst() {
      guard let f = fields(raw), let kind = f.first else { return nil }
      switch (kind, f.count) {
      case ("I", 3): c.archiving[f[1]] = f[2]
      case ("W", 3): c.archived[f[1]] = f[2]
      case ("R", 2): c.recorded.insert(f[1])
      case ("S", 2): c.started.insert(f[1])
      case ("D", 2): c.handedOver.insert(f[1])
      case ("A", 5):
        guard let state = DeliveryState(rawValue: f[2]) else { return nil }
        let code: Int?
        if f[3].isEmpty {
          code = nil
        } else {
          guard let n = Int(f[3]) else { return nil }
          code = n
        }
        c.answered[f[1]] = JournalAnswer(state: state, code: code, reply: f[4])
      default: return nil
      }
    }
    return c
  }

  private static func line(_ fields: [String]) -> [UInt8] {
    var out: [UInt8] = []
    for (i, f) in fields.enumerated() {
      if i > 0 { out.append(0x09) }
      for b in f.utf8 {
        switch b {
        case 0x5C: out += [0x5C, 0x5C]
        case 0x09: out += [0x5C, 0x74]
        case 0x0A: out += [0x5C, 0x6E]
        case 0x0D: out += [0x5C, 0x72]
        default: out.append(b)
        }
      }
    }
    out.append(0x0A)
    return out
  }

  private static func fields(_ line: ArraySlice<UInt8>) -> [String]? {
    var result: [String] = []
    var field: [UInt8] = []
    var escaped = false
    for b in line {
      if escaped {
        switch b {
        case 0x5C: field.append(0x5C)
        case 0x74: field.append(0x09)
        case 0x6E: field.append(0x0A)
        case 0x72: field.append(0x0D)
        default: return nil
        }
        escaped = false
      } else if b == 0x5C {
        escaped = true
      } else if b == 0x09 {
        guard let s = String(validating: field, as: UTF8.self) else { return nil }
        result.append(s)
        field = []
      } else {
        field.append(b)
      }
    }
    guard !escaped, let s = String(validating: field, as: UTF8.self) else { return nil }
    result.append(s)
    return result
  }
}

/// A journal in memory, and its store: for tests, and to look at what a run noted.
public final class MemoryJournal: DeliveryJournal, JournalStore, Sendable {
  private let bytes = Mutex<[UInt8]?>(nil)
  /// When set, `started` and later writes fail (a full disk).
  private let failing = Mutex(false)

  public init(_ initial: [UInt8]? = nil) { bytes.withLock { $0 = initial } }

  public var written: [UInt8]? { bytes.withLock { $0 } }
  public var contents: JournalContents? { written.flatMap(JournalFormat.parse) }
  public func failFromNowOn() { failing.withLock { $0 = true } }

  public func previous() -> [UInt8]? { written }
  public func discard() { bytes.withLock { $0 = nil } }
  public func begin(bootID: String) -> any DeliveryJournal {
    bytes.withLock { $0 = JournalFormat.header(bootID: bootID) }
    return self
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String { "the journal could not be written" }
  }

  private func append(_ b: [UInt8]) throws {
    if failing.withLock({ $0 }) { throw Failure() }
    bytes.withLock { $0 = ($0 ?? []) + b }
  }

  public func archiving(_ messageKey: String, name: String) throws {
    try append(JournalFormat.archiving(messageKey, name))
  }
  public func archived(_ messageKey: String, path: String) throws {
    try append(JournalFormat.archived(messageKey, path))
  }
  public func recording(_ messageKeys: [String]) throws {
    try append(messageKeys.flatMap(JournalFormat.recording))
  }
  public func started(_ messageKey: String) throws {
    try append(JournalFormat.started(messageKey))
  }
  public func handedOver(_ messageKey: String) throws {
    try append(JournalFormat.handedOver(messageKey))
  }
  public func answered(_ messageKey: String, state: DeliveryState, code: Int?, reply: String)
    throws
  {
    try append(
      JournalFormat.answered(messageKey, JournalAnswer(state: state, code: code, reply: reply)))
  }
}
