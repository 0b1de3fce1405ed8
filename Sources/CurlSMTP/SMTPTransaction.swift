import HerinnerCore

/// What happens to the connection once a transaction or session step is over.
public enum SMTPConnectionFate: Sendable, Equatable {
  /// In step: the next message can use it.
  case keep
  /// Say QUIT, then close.
  case quit
  /// Close at once: it is out of step (a reply could not be paired, the server opened DATA for
  /// a failed transaction) or the server is closing it (421).
  case close
}

/// One mail transaction (RFC 5321 §3.3) on an open session, as a pure state machine: events in
/// (replies, written, connection lost), actions out (write commands, read a reply, write the
/// body, the outcome). No socket, no clock: `CurlSMTPTransport` carries out the actions.
///
/// Invariants: every reply is paired with the command it answers, in order (RFC 2920 §3.1); a
/// reply that cannot be read or paired is a protocol error (deferred before the final dot,
/// unknown after); the first refusal decides, and it keeps its meaning when the connection ends
/// afterwards; `accepted` only for a 250 to the end of data with nothing unpaired after it.
public struct SMTPTransaction: Sendable {
  public enum Action: Sendable, Equatable {
    /// Write these command lines, then read the next reply.
    case write([UInt8])
    /// Read the next reply (one of a pipelined group).
    case readReply
    /// Check, without waiting, whether anything has arrived: report it with `replyReceived`,
    /// `malformedReply` or `connectionLost`, or call `nothingPending`.
    case checkNothingPending
    /// Write the message (dot-stuffed, then CRLF . CRLF), then call `bodyWritten`.
    case writeBody
    /// The transaction is over.
    case finish(DeliveryOutcome, then: SMTPConnectionFate)
    /// The server refuses us, not this message: stop; nothing of it was delivered.
    case refuseSession(TransportError, then: SMTPConnectionFate)
    /// The reused connection was closed by the server before it heard anything of this
    /// message: open a new one and start again.
    case reconnectAndRetry

    public static func == (a: Action, b: Action) -> Bool {
      switch (a, b) {
      case (.write(let x), .write(let y)): return x == y
      case (.readReply, .readReply), (.checkNothingPending, .checkNothingPending),
        (.writeBody, .writeBody), (.reconnectAndRetry, .reconnectAndRetry):
        return true
      case (.finish(let x, let f), .finish(let y, let g)): return x == y && f == g
      case (.refuseSession(let x, let f), .refuseSession(let y, let g)):
        return x.code == y.code && x.message == y.message && f == g
      default: return false
      }
    }
  }

  /// The commands whose replies are awaited, in the order sent.
  enum Command: Sendable, Equatable {
    case mail
    case rcpt(Int)
    case data, endOfData, rset
  }

  enum Phase: Sendable, Equatable {
    case ready
    /// A reused connection: did the server say anything (421 timeout) or hang up while idle?
    case idleCheck
    case envelope
    /// 354 received: anything more would be unpaired.
    case beforeBody
    case body
    case finalReply
    /// 250 to the end of data received: anything more would be unpaired.
    case afterFinal(DeliveryOutcome)
    case reset
    case done
  }

  /// What ends the transaction, decided by the first reply that refuses.
  enum Verdict: Sendable, Equatable {
    case outcome(DeliveryOutcome, close: Bool)
    /// The code, the operator's message, and the reply that said it.
    case session(TransportError.Code, String, SMTPReply)
  }

  public let envelope: Envelope
  public let messageSize: Int
  public let capabilities: SMTPCapabilities
  /// The connection carried an earlier transaction (the server may have closed it meanwhile).
  public let reusedConnection: Bool

  private(set) var phase = Phase.ready
  private var pending: [Command] = []
  private var nextRecipient = 0
  private var anyReply = false
  /// A 421 arrived: the server closes the connection (RFC 5321 §3.8), so no RSET.
  private var serverClosing = false
  private var verdict: Verdict?
  /// Refusals of the extra (Bcc) recipients, noted on an accepted outcome.
  private var refusedOthers: [String] = []

  /// - Parameters:
  ///   - messageSize: the message's octets before dot-stuffing (RFC 1870 §3).
  ///   - capabilities: from the EHLO after TLS.
  public init(
    envelope: Envelope, messageSize: Int, capabilities: SMTPCapabilities,
    reusedConnection: Bool = false
  ) {
    self.envelope = envelope
    self.messageSize = messageSize
    self.capabilities = capabilities
    self.reusedConnection = reusedConnection
  }

  /// With one recipient DATA joins the pipelined group; with a Bcc the customer's RCPT reply
  /// is read first (a refused customer with an accepted Bcc must send nothing).
  var pipelinesData: Bool { capabilities.pipelining && envelope.recipients.count == 1 }

  public mutating func start() -> Action {
    guard phase == .ready else { return protocolError("the transaction was started twice") }
    for address in [envelope.from] + envelope.recipients
    where address.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F || $0 == 0x3C || $0 == 0x3E }) {
      phase = .done
      return .finish(
        .rejected(code: 0, reply: "not sent: the address \(address.debugDescription) is invalid"),
        then: .keep)
    }
    if envelope.recipients.isEmpty {
      phase = .done
      return .finish(.rejected(code: 0, reply: "not sent: no recipient"), then: .keep)
    }
    if let limit = capabilities.size, limit > 0, messageSize > limit {
      phase = .done
      return .finish(
        .notAttempted(
          reason:
            "not sent: the message is \(messageSize) bytes and the server takes at most \(limit) "
            + "(SIZE); make the attachment smaller"),
        then: .keep)
    }
    if reusedConnection {
      phase = .idleCheck
      return .checkNothingPending
    }
    return sendEnvelope()
  }

  private var mailCommand: String {
    var c = "MAIL FROM:<\(envelope.from)>"
    if capabilities.size != nil { c += " SIZE=\(messageSize)" }  // RFC 1870 §6
    return c + "\r\n"
  }

  private func rcptCommand(_ i: Int) -> String { "RCPT TO:<\(envelope.recipients[i])>\r\n" }

  private mutating func sendEnvelope() -> Action {
    phase = .envelope
    if capabilities.pipelining {
      var text = mailCommand
      pending = [.mail]
      for i in envelope.recipients.indices {
        text += rcptCommand(i)
        pending.append(.rcpt(i))
      }
      nextRecipient = envelope.recipients.count
      if pipelinesData {
        text += "DATA\r\n"
        pending.append(.data)
      }
      return .write(Array(text.utf8))
    }
    pending = [.mail]
    return .write(Array(mailCommand.utf8))
  }

  public mutating func replyReceived(_ reply: SMTPReply) -> Action {
    anyReply = true
    switch phase {
    case .idleCheck:
      // Said while idle (typically "421 timeout"): nothing of this message was said yet.
      return .reconnectAndRetry
    case .beforeBody, .afterFinal:
      return protocolError("a reply no command asked for: \(reply)")
    case .ready, .done, .body:
      return protocolError("a reply no command asked for: \(reply)")
    case .envelope, .finalReply, .reset:
      break
    }
    guard !pending.isEmpty else { return protocolError("a reply no command asked for: \(reply)") }
    let command = pending.removeFirst()
    if reply.code == 421 { serverClosing = true }
    guard Self.pairs(reply, with: command) else {
      return protocolError("the reply \"\(reply)\" does not answer \(command.name)")
    }
    switch command {
    case .mail:
      if reply.code == 421 && reusedConnection {
        // The server is closing the idle connection (RFC 5321 §3.8): it heard nothing yet.
        phase = .done
        return .reconnectAndRetry
      }
      record(mail: reply)
    case .rcpt(let i): record(recipient: i, reply)
    case .data:
      if reply.code != 354 { decide(Self.verdict(data: reply)) }
    case .endOfData: return final(reply)
    case .rset:
      phase = .done
      return finishWithVerdict(close: !reply.isPositive)
    }
    if !pending.isEmpty { return .readReply }
    return afterGroup(dataOpened: command == .data && reply.code == 354)
  }

  /// All replies of the commands sent so far are in: send the next command, the body, or end.
  private mutating func afterGroup(dataOpened: Bool) -> Action {
    if let verdict {
      if dataOpened {
        // The server waits for data of a failed transaction: the connection is out of use.
        phase = .done
        return finishWithVerdict(close: true)
      }
      switch verdict {
      case .outcome(_, let close) where close || serverClosing:
        phase = .done
        return finishWithVerdict(close: true)
      case .session:
        phase = .done
        return finishWithVerdict(close: serverClosing)
      case .outcome:
        phase = .reset
        pending = [.rset]
        return .write(Array("RSET\r\n".utf8))
      }
    }
    if dataOpened {
      phase = .beforeBody
      return .checkNothingPending
    }
    if nextRecipient < envelope.recipients.count {
      pending = [.rcpt(nextRecipient)]
      nextRecipient += 1
      return .write(Array(rcptCommand(nextRecipient - 1).utf8))
    }
    pending = [.data]
    return .write(Array("DATA\r\n".utf8))
  }

  private mutating func record(mail reply: SMTPReply) {
    guard !reply.isPositive else { return }
    decide(Self.verdict(mail: reply))
  }

  private mutating func record(recipient i: Int, _ reply: SMTPReply) {
    guard !reply.isPositive else { return }
    let v = Self.verdict(recipient: reply, envelope.recipients[i])
    switch v {
    case .outcome(_, let close) where i > 0 && !close:
      // A refused Bcc does not stop the customer's message; it is noted on the outcome.
      refusedOthers.append("\(envelope.recipients[i]): \(reply)")
    default:
      decide(v)
    }
  }

  /// The first refusal decides; later ones (a 554 to DATA after a refused recipient) follow
  /// from it.
  private mutating func decide(_ v: Verdict) {
    if verdict == nil { verdict = v }
  }

  private mutating func final(_ reply: SMTPReply) -> Action {
    if reply.isPositive {
      var text = reply.description
      if !refusedOthers.isEmpty {
        text += " (refused: " + refusedOthers.joined(separator: "; ") + ")"
      }
      phase = .afterFinal(.accepted(code: reply.code, reply: text))
      return .checkNothingPending
    }
    phase = .done
    if reply.isTransient {
      return .finish(
        .deferred(code: reply.code, reply: reply.description),
        then: reply.code == 421 ? .close : .keep)
    }
    return .finish(.rejected(code: reply.code, reply: reply.description), then: .keep)
  }

  private mutating func finishWithVerdict(close: Bool) -> Action {
    phase = .done
    switch verdict {
    case .outcome(let o, let c):
      return .finish(o, then: close || c ? .close : .keep)
    case .session(let code, let message, let reply):
      return .refuseSession(
        TransportError(code, message, cause: reply), then: close ? .close : .quit)
    case nil:
      return .finish(
        .deferred(code: 0, reply: "not sent: the transaction ended without a verdict"),
        then: .close)
    }
  }

  /// The driver found nothing unread where nothing may be.
  public mutating func nothingPending() -> Action {
    switch phase {
    case .idleCheck: return sendEnvelope()
    case .beforeBody:
      phase = .body
      return .writeBody
    case .afterFinal(let outcome):
      phase = .done
      return .finish(outcome, then: .keep)
    default:
      return protocolError("nothing was pending where a reply was awaited")
    }
  }

  /// Every byte of the message and the final dot are written.
  public mutating func bodyWritten() -> Action {
    guard phase == .body else { return protocolError("the body was written out of turn") }
    phase = .finalReply
    pending = [.endOfData]
    return .readReply
  }

  /// A line that is not an SMTP reply arrived.
  public mutating func malformedReply(_ line: String) -> Action {
    anyReply = true
    if phase == .idleCheck { return .reconnectAndRetry }
    return protocolError("the server sent a line that is not an SMTP reply: \"\(line)\"")
  }

  /// The connection broke, closed, or no reply came in time.
  public mutating func connectionLost(_ why: String) -> Action {
    switch phase {
    case .ready, .idleCheck:
      phase = .done
      return .reconnectAndRetry
    case .envelope where reusedConnection && !anyReply:
      // A connection the server closed while idle; it heard at most our MAIL.
      phase = .done
      return .reconnectAndRetry
    case .envelope, .beforeBody, .body, .reset:
      if verdict != nil { return finishWithVerdict(close: true) }
      phase = .done
      return .finish(
        .deferred(
          code: 0, reply: "not sent: the connection ended before the message was sent (\(why))"),
        then: .close)
    case .finalReply:
      phase = .done
      return .finish(
        .unknown(
          reason:
            "the message was sent but the connection ended before the server's reply (\(why)); "
            + "check whether it arrived"),
        then: .close)
    case .afterFinal(let outcome):
      // The 250 arrived: it keeps its meaning.
      phase = .done
      return .finish(outcome, then: .close)
    case .done:
      return protocolError("the connection ended after the transaction")
    }
  }

  /// Out of step: before the final dot nothing can have been delivered; after it, the server
  /// may have the message.
  private mutating func protocolError(_ what: String) -> Action {
    let afterDot: Bool
    switch phase {
    case .finalReply, .afterFinal: afterDot = true
    default: afterDot = false
    }
    if !afterDot, verdict != nil { return finishWithVerdict(close: true) }
    phase = .done
    if afterDot {
      return .finish(
        .unknown(
          reason:
            "the message was sent but the server's reply cannot be trusted: \(what); "
            + "check whether it arrived"),
        then: .close)
    }
    return .finish(.deferred(code: 0, reply: "not sent: protocol error: \(what)"), then: .close)
  }

  /// Whether `reply` can answer `command` (RFC 5321 §4.3.2): the success codes each command
  /// has, or any 4xx or 5xx.
  static func pairs(_ reply: SMTPReply, with command: Command) -> Bool {
    if reply.isTransient || reply.isPermanent { return true }
    switch command {
    case .mail, .endOfData, .rset: return reply.code == 250
    case .rcpt: return reply.code == 250 || reply.code == 251 || reply.code == 252
    case .data: return reply.code == 354
    }
  }
}

extension SMTPTransaction.Command {
  var name: String {
    switch self {
    case .mail: "MAIL FROM"
    case .rcpt: "RCPT TO"
    case .data: "DATA"
    case .endOfData: "the end of the data"
    case .rset: "RSET"
    }
  }
}

// MARK: - Who a refusal is about

extension SMTPTransaction {
  /// RFC 4954 §6: authentication required (530), too weak (534), credentials invalid (535),
  /// encryption required (538).
  static let loginCodes: Set<Int> = [530, 534, 535, 538]

  static func loginRefusal(_ reply: SMTPReply) -> Verdict {
    switch reply.code {
    case 535:
      return .session(
        .login,
        "the server refused the login (\(reply)); check smtp.username and the password", reply)
    case 530:
      // RFC 4954 (authentication required) and RFC 3207 (STARTTLS first) share 530 5.7.0.
      return .session(
        .login,
        "the server requires a login or TLS first (\(reply)); check smtp.username, the password "
          + "and smtp.security", reply)
    default:
      return .session(
        .login,
        "the server requires a stronger login or TLS (\(reply)); check smtp.security", reply)
    }
  }

  /// A refused MAIL FROM is about us (the sender or the session), except "too large"
  /// (RFC 1870 §6: 552, 5.3.4), which is about the message.
  static func verdict(mail reply: SMTPReply) -> Verdict {
    if reply.code == 421 {
      return .outcome(.deferred(code: 421, reply: reply.description), close: true)
    }
    if reply.isTransient {
      return .outcome(.deferred(code: reply.code, reply: reply.description), close: false)
    }
    if loginCodes.contains(reply.code) { return loginRefusal(reply) }
    if reply.code == 552 || reply.enhanced == EnhancedStatusCode(5, 3, 4) {
      return .outcome(
        .notAttempted(reason: "not sent: the server refuses a message this large (\(reply))"),
        close: false)
    }
    return .session(
      .senderRefused,
      "the server refused our sender address (\(reply)); check smtp.envelopeFrom or "
        + "company.email, and that the login may send as it", reply)
  }

  /// RFC 3463: 5.1.x (address) and 5.2.x (mailbox) are about the recipient, 5.7.x (security
  /// and policy: relaying, authentication) about us; a plain 550 or 553 (RFC 5321 §4.2.3) is
  /// about the recipient.
  static func verdict(recipient reply: SMTPReply, _ address: String) -> Verdict {
    if reply.code == 421 {
      return .outcome(.deferred(code: 421, reply: reply.description), close: true)
    }
    if reply.isTransient {
      return .outcome(.deferred(code: reply.code, reply: reply.description), close: false)
    }
    if loginCodes.contains(reply.code) { return loginRefusal(reply) }
    if let e = reply.enhanced, e.subject == 7 {
      return .session(
        .senderRefused,
        "the server refuses to take mail from us for <\(address)> (\(reply)); check that "
          + "smtp.username may send through this server", reply)
    }
    if reply.enhanced == nil, [500, 502, 503, 504].contains(reply.code) {
      // The command itself was not understood: nothing is known about the recipient.
      return .outcome(
        .deferred(code: reply.code, reply: "not sent: the server did not take RCPT (\(reply))"),
        close: false)
    }
    return .outcome(.rejected(code: reply.code, reply: reply.description), close: false)
  }

  /// A refused DATA (before any data): 5.7.x is about us, as at RCPT; else about the message.
  static func verdict(data reply: SMTPReply) -> Verdict {
    if reply.code == 421 {
      return .outcome(.deferred(code: 421, reply: reply.description), close: true)
    }
    if reply.isTransient {
      return .outcome(.deferred(code: reply.code, reply: reply.description), close: false)
    }
    if loginCodes.contains(reply.code) { return loginRefusal(reply) }
    if reply.enhanced?.subject == 7 {
      return .session(
        .senderRefused,
        "the server refuses to take mail from us (\(reply)); check that smtp.username may "
          + "send through this server", reply)
    }
    return .outcome(.rejected(code: reply.code, reply: reply.description), close: false)
  }
}
