/// Who a message goes to at the SMTP level. Bcc recipients are here only, never in headers.
public struct Envelope: Sendable, Hashable {
  public var from: String
  public var recipients: [String]
  public init(from: String, recipients: [String]) {
    self.from = from
    self.recipients = recipients
  }
}

/// What the server said about one message.
public enum DeliveryOutcome: Sendable, Hashable {
  /// 2xx after DATA: the server took it; `reply` is its final line (the queue id).
  case accepted(code: Int, reply: String)
  /// 4xx, or the connection was lost before DATA completed: try again next run.
  case deferred(code: Int, reply: String)
  /// 5xx: not retried.
  case rejected(code: Int, reply: String)
  /// The message was handed over but no final reply came: the server may or may not have it.
  case unknown(reason: String)

  public var state: DeliveryState {
    switch self {
    case .accepted: return .sent
    case .deferred: return .deferred
    case .rejected: return .rejected
    case .unknown: return .unknown
    }
  }

  public var code: Int? {
    switch self {
    case .accepted(let c, _), .deferred(let c, _), .rejected(let c, _): return c
    case .unknown: return nil
    }
  }

  public var reply: String {
    switch self {
    case .accepted(_, let r), .deferred(_, let r), .rejected(_, let r): return r
    case .unknown(let r): return r
    }
  }
}

/// The server cannot be used at all: nothing was delivered by the call that threw.
public struct TransportError: Error, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable { case unreachable, tls, login, other }
  public var kind: Kind
  public var message: String
  public init(kind: Kind, message: String) {
    self.kind = kind
    self.message = message
  }
  public var description: String { message }
}

/// The port the batch sends through: a live SMTP connection, or a fake in unit tests.
public protocol MailTransport: AnyObject {
  func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome
}
