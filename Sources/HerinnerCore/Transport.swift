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
  /// 2xx to the end of the message's data: the server took it; `reply` is its reply (the
  /// queue id).
  case accepted(code: Int, reply: String)
  /// 4xx, or the connection ended (or broke the protocol) before the final dot: try again next
  /// run.
  case deferred(code: Int, reply: String)
  /// 5xx about the recipient or the message: not retried.
  case rejected(code: Int, reply: String)
  /// The whole message was handed over but no usable final reply came: the server may or may
  /// not have it.
  case unknown(reason: String)
  /// Not handed to the server at all, because the server cannot take it (larger than the SIZE
  /// it announced, RFC 1870): reported, and the step stays due.
  case notAttempted(reason: String)

  /// The ledger state: a message not attempted stays due, as a deferred one does.
  public var state: DeliveryState {
    switch self {
    case .accepted: return .sent
    case .deferred, .notAttempted: return .deferred
    case .rejected: return .rejected
    case .unknown: return .unknown
    }
  }

  public var code: Int? {
    switch self {
    case .accepted(let c, _), .deferred(let c, _), .rejected(let c, _): return c
    case .unknown, .notAttempted: return nil
    }
  }

  public var reply: String {
    switch self {
    case .accepted(_, let r), .deferred(_, let r), .rejected(_, let r): return r
    case .unknown(let r), .notAttempted(let r): return r
    }
  }
}

/// The server cannot be used, or refuses us (not one recipient): nothing was delivered by the
/// call that threw. A code to decide on, a one-line message for a person (what went wrong and
/// what to check), and the underlying cause (a libcurl code, the server's reply).
public struct TransportError: Error, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ name: String) { description = name }

    /// No connection: the name does not resolve, nothing listens, no answer in time.
    public static let unreachable = Code("unreachable")
    /// The server answered but would not open a session now (a 421 or other refusal as its
    /// greeting, e.g. one session per client): this connection could not be opened; others
    /// may.
    public static let unavailable = Code("unavailable")
    /// TLS failed: the certificate could not be verified, the handshake failed, or the server
    /// offers no STARTTLS.
    public static let tls = Code("tls")
    /// The login was refused or is required (RFC 4954: 530, 534, 535, 538).
    public static let login = Code("login")
    /// The server refuses mail from us: a 5xx to MAIL FROM, or a 5.7.x (relaying, policy) to a
    /// recipient. About the sender, so no recipient is to blame.
    public static let senderRefused = Code("senderRefused")
    /// The server's replies broke the SMTP protocol while the session was opened.
    public static let `protocol` = Code("protocol")
    public static let other = Code("other")
  }

  public var code: Code
  /// One line: what went wrong and what to check. Never holds a password.
  public var message: String
  /// What lies under it, e.g. a libcurl error by name or the server's reply.
  public var cause: (any Error & Sendable)?

  public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
    self.code = code
    self.message = message
    self.cause = cause
  }

  @available(*, deprecated, renamed: "init(_:_:cause:)")
  public init(kind: Code, message: String) {
    self.init(kind, message)
  }

  /// This connection could not be opened (nothing sent over it): the batch may go on over
  /// connections that did open.
  public var isOpeningFailure: Bool { code == .unreachable || code == .unavailable }

  public var description: String { message }
}

/// The port the batch sends through: a live SMTP connection, or a fake in unit tests.
///
/// `send` returns the server's verdict on one message; it throws only when the server cannot
/// be used or refuses us (see `TransportError.Code`), and then nothing of that message was
/// delivered.
public protocol MailTransport: AnyObject {
  /// Opens the session (connection, TLS, login) without sending anything, so that a night can
  /// stop before it marks anything.
  func verify() throws(TransportError)
  func send(_ message: [UInt8], envelope: Envelope) throws(TransportError) -> DeliveryOutcome
  /// The same, calling `handingOver` just before the end of data goes out: a server takes on a
  /// message only at its end of data (RFC 5321 §4.1.1.4), so until then a killed process has
  /// delivered nothing. When `handingOver` throws, the end of data is not sent and the message
  /// is `deferred`.
  func send(
    _ message: [UInt8], envelope: Envelope, handingOver: () throws -> Void
  ) throws(TransportError) -> DeliveryOutcome
}

extension MailTransport {
  /// A transport with nothing to open (an in-memory one) is always ready.
  public func verify() throws(TransportError) {}

  /// A transport that cannot tell when its end of data goes out hands over at the start.
  public func send(
    _ message: [UInt8], envelope: Envelope, handingOver: () throws -> Void
  ) throws(TransportError) -> DeliveryOutcome {
    do { try handingOver() } catch {
      return .deferred(code: 0, reply: "not sent: \(error)")
    }
    return try send(message, envelope: envelope)
  }
}
