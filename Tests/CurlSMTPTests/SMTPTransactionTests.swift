import CCurl
import HerinnerCore
import Testing

@testable import CurlSMTP

/// What the scripted server does next.
enum ServerStep: Sendable, CustomStringConvertible {
  /// A reply, read when the client reads.
  case reply(String)
  /// Bytes the server sends unasked: seen by a read or by the check for pending input.
  case unasked(String)
  /// The server hangs up when the client waits for a reply.
  case hangUp
  /// The server has hung up already: seen by the check for pending input too.
  case closed

  var description: String {
    switch self {
    case .reply(let s): "reply \(s)"
    case .unasked(let s): "unasked \(s)"
    case .hangUp: "hang up"
    case .closed: "closed"
    }
  }
}

/// What the client did, in order, and how it ended.
struct Run: CustomStringConvertible {
  var written: [String] = []
  var end: SMTPTransaction.Action? = nil
  var description: String {
    "written \(written.map(\.debugDescription)), end \(String(describing: end))"
  }
}

/// Drives a transaction as CurlSMTPTransport does, against a script instead of a socket; the
/// replies go through SMTPReplyReader like received bytes.
func drive(
  _ tx: inout SMTPTransaction, _ script: [ServerStep], bodyFails: Bool = false
) -> Run {
  var run = Run()
  var script = script[...]
  var reader = SMTPReplyReader()
  func input(_ waiting: Bool) -> SMTPTransaction.Action? {
    while true {
      switch reader.next() {
      case .reply(let r): return tx.replyReceived(r)
      case .malformed(let l): return tx.malformedReply(l)
      case nil: break
      }
      guard let step = script.first else {
        return waiting ? tx.connectionLost("no answer within 20 s") : nil
      }
      switch step {
      case .reply(let s):
        guard waiting else { return nil }
        reader.append(Array((s + "\r\n").utf8))
      case .unasked(let s): reader.append(Array((s + "\r\n").utf8))
      case .hangUp where !waiting: return nil
      case .hangUp, .closed:
        script.removeFirst()
        return tx.connectionLost("the server closed the connection")
      }
      script.removeFirst()
    }
  }
  var action = tx.start()
  for _ in 0..<100 {
    switch action {
    case .write(let bytes):
      run.written.append(String(decoding: bytes, as: UTF8.self))
      action = input(true)!
    case .readReply: action = input(true)!
    case .checkNothingPending: action = input(false) ?? tx.nothingPending()
    case .writeBody:
      run.written.append("<body>")
      action = bodyFails ? tx.connectionLost("broken pipe") : tx.bodyWritten()
    case .finish, .refuseSession, .reconnectAndRetry:
      run.end = action
      return run
    }
  }
  Issue.record("the transaction did not end")
  return run
}

let one = Envelope(from: "a@studiovermeer.nl", recipients: ["b@example.nl"])
let withBcc = Envelope(
  from: "a@studiovermeer.nl", recipients: ["b@example.nl", "archief@studiovermeer.nl"])
let piped = SMTPCapabilities(pipelining: true, size: 10_240_000, enhancedStatusCodes: true)
let plain = SMTPCapabilities()

let mail = "MAIL FROM:<a@studiovermeer.nl> SIZE=1000\r\n"
let rcpt = "RCPT TO:<b@example.nl>\r\n"
let bccRcpt = "RCPT TO:<archief@studiovermeer.nl>\r\n"
let queued = "250 2.0.0 Ok: queued as 4F2A1"

struct Case: Sendable, CustomTestStringConvertible {
  var name: String
  var envelope = one
  var capabilities = piped
  var reused = false
  var size = 1000
  var script: [ServerStep]
  var bodyFails = false
  var written: [String]
  var end: SMTPTransaction.Action
  var testDescription: String { name }
}

func refused(_ code: TransportError.Code, _ message: String, _ fate: SMTPConnectionFate)
  -> SMTPTransaction.Action
{
  .refuseSession(TransportError(code, message), then: fate)
}

let transactionCases: [Case] = [
  Case(
    name: "pipelined: MAIL, RCPT and DATA in one write, every reply paired",
    script: [.reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .reply(queued)],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(.accepted(code: 250, reply: queued), then: .keep)),
  Case(
    name: "without PIPELINING one command at a time, and no SIZE= when SIZE is not offered",
    capabilities: plain,
    script: [.reply("250 Ok"), .reply("250 Ok"), .reply("354 go"), .reply(queued)],
    written: ["MAIL FROM:<a@studiovermeer.nl>\r\n", rcpt, "DATA\r\n", "<body>"],
    end: .finish(.accepted(code: 250, reply: queued), then: .keep)),
  Case(
    name: "larger than the server's SIZE: not attempted, nothing written",
    capabilities: SMTPCapabilities(pipelining: true, size: 999), script: [], written: [],
    end: .finish(
      .notAttempted(
        reason:
          "not sent: the message is 1000 bytes and the server takes at most 999 (SIZE); make "
          + "the attachment smaller"), then: .keep)),
  Case(
    name: "SIZE 0 is no limit",
    capabilities: SMTPCapabilities(size: 0), size: 50_000_000,
    script: [.reply("250 Ok"), .reply("250 Ok"), .reply("354 go"), .reply(queued)],
    written: ["MAIL FROM:<a@studiovermeer.nl> SIZE=50000000\r\n", rcpt, "DATA\r\n", "<body>"],
    end: .finish(.accepted(code: 250, reply: queued), then: .keep)),
  Case(
    name: "552 5.3.4 to MAIL FROM: too large, about the message",
    script: [
      .reply("552 5.3.4 Message size exceeds fixed limit"), .reply("503 5.5.1 need MAIL"),
      .reply("503 5.5.1 need RCPT"), .reply("250 2.0.0 Ok"),
    ],
    written: [mail + rcpt + "DATA\r\n", "RSET\r\n"],
    end: .finish(
      .notAttempted(
        reason:
          "not sent: the server refuses a message this large (552 5.3.4 Message size exceeds "
          + "fixed limit)"), then: .keep)),
  Case(
    name: "recipient unknown (5.1.1): rejected; DATA's 554 follows from it; RSET",
    script: [
      .reply("250 2.1.0 Ok"), .reply("550 5.1.1 <b@example.nl>: User unknown"),
      .reply("554 5.5.1 Error: no valid recipients"), .reply("250 2.0.0 Ok"),
    ],
    written: [mail + rcpt + "DATA\r\n", "RSET\r\n"],
    end: .finish(
      .rejected(code: 550, reply: "550 5.1.1 <b@example.nl>: User unknown"), then: .keep)),
  Case(
    name: "a plain 553 at RCPT is about the recipient",
    capabilities: plain,
    script: [.reply("250 Ok"), .reply("553 mailbox name not allowed"), .reply("250 Ok")],
    written: ["MAIL FROM:<a@studiovermeer.nl>\r\n", rcpt, "RSET\r\n"],
    end: .finish(.rejected(code: 553, reply: "553 mailbox name not allowed"), then: .keep)),
  Case(
    name: "a 550 that arrived keeps its meaning when the server hangs up (hard error limit)",
    script: [
      .reply("250 2.1.0 Ok"), .reply("550 5.1.1 <b@example.nl>: User unknown"),
      .reply("421 4.7.0 Error: too many errors"), .hangUp,
    ],
    written: [mail + rcpt + "DATA\r\n"],
    end: .finish(
      .rejected(code: 550, reply: "550 5.1.1 <b@example.nl>: User unknown"), then: .close)),
  Case(
    name: "... also when the hang-up comes before the remaining replies",
    script: [.reply("250 2.1.0 Ok"), .reply("550 5.2.1 mailbox disabled"), .hangUp],
    written: [mail + rcpt + "DATA\r\n"],
    end: .finish(.rejected(code: 550, reply: "550 5.2.1 mailbox disabled"), then: .close)),
  Case(
    name: "5xx to MAIL FROM: our sender is refused, the session stops with QUIT",
    script: [
      .reply("553 5.7.1 <a@studiovermeer.nl>: Sender address rejected: not owned by user"),
      .reply("503 5.5.1 need MAIL"), .reply("503 5.5.1 need RCPT"),
    ],
    written: [mail + rcpt + "DATA\r\n"],
    end: refused(
      .senderRefused,
      "the server refused our sender address (553 5.7.1 <a@studiovermeer.nl>: Sender address "
        + "rejected: not owned by user); check smtp.envelopeFrom or company.email, and that the "
        + "login may send as it", .quit)),
  Case(
    name: "5.7.1 relay denied at RCPT is about us, not the recipient",
    script: [
      .reply("250 2.1.0 Ok"), .reply("554 5.7.1 <b@example.nl>: Relay access denied"),
      .reply("554 5.5.1 Error: no valid recipients"),
    ],
    written: [mail + rcpt + "DATA\r\n"],
    end: refused(
      .senderRefused,
      "the server refuses to take mail from us for <b@example.nl> (554 5.7.1 <b@example.nl>: "
        + "Relay access denied); check that smtp.username may send through this server", .quit)),
  Case(
    name: "530 at RCPT: a login is required",
    capabilities: plain,
    script: [.reply("250 Ok"), .reply("530 5.7.0 Authentication required")],
    written: ["MAIL FROM:<a@studiovermeer.nl>\r\n", rcpt],
    end: refused(
      .login,
      "the server requires a login or TLS first (530 5.7.0 Authentication required); check "
        + "smtp.username, the password and smtp.security", .quit)),
  Case(
    name: "4xx at RCPT: deferred, the connection stays after RSET",
    script: [
      .reply("250 2.1.0 Ok"), .reply("450 4.2.0 greylisted"), .reply("554 5.5.1 no valid"),
      .reply("250 2.0.0 Ok"),
    ],
    written: [mail + rcpt + "DATA\r\n", "RSET\r\n"],
    end: .finish(.deferred(code: 450, reply: "450 4.2.0 greylisted"), then: .keep)),
  Case(
    name: "421 to MAIL on a reused connection: reconnect, nothing was said",
    reused: true, script: [.reply("421 4.4.2 timeout exceeded"), .hangUp],
    written: [mail + rcpt + "DATA\r\n"], end: .reconnectAndRetry),
  Case(
    name: "421 to MAIL on a fresh connection: deferred, closed",
    script: [.reply("421 4.3.2 shutting down"), .hangUp],
    written: [mail + rcpt + "DATA\r\n"],
    end: .finish(.deferred(code: 421, reply: "421 4.3.2 shutting down"), then: .close)),
  Case(
    name: "a reused connection the server closed while idle: reconnect",
    reused: true, script: [.closed], written: [], end: .reconnectAndRetry),
  Case(
    name: "a reused connection with an idle-timeout notice waiting: reconnect",
    reused: true, script: [.unasked("421 4.4.2 mx Error: timeout exceeded"), .hangUp],
    written: [], end: .reconnectAndRetry),
  Case(
    name: "451 to the end of data: deferred, connection kept",
    script: [
      .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .reply("451 4.3.0 later"),
    ],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(.deferred(code: 451, reply: "451 4.3.0 later"), then: .keep)),
  Case(
    name: "554 to the end of data: rejected",
    script: [
      .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .reply("554 5.6.0 content"),
    ],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(.rejected(code: 554, reply: "554 5.6.0 content"), then: .keep)),
  Case(
    name: "421 to the end of data: deferred, closed",
    script: [
      .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .reply("421 4.3.2 bye"),
    ],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(.deferred(code: 421, reply: "421 4.3.2 bye"), then: .close)),
  Case(
    name: "the connection ends after the final dot: unknown",
    script: [.reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .hangUp],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(
      .unknown(
        reason:
          "the message was sent but the connection ended before the server's reply (the server "
          + "closed the connection); check whether it arrived"), then: .close)),
  Case(
    name: "the connection breaks while the body is written: deferred (no final dot)",
    script: [.reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go")], bodyFails: true,
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(
      .deferred(
        code: 0, reply: "not sent: the connection ended before the message was sent (broken pipe)"),
      then: .close)),
  Case(
    name: "a stray reply after the final 250: the 250 cannot be trusted, unknown",
    script: [
      .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .reply(queued),
      .unasked("250 2.0.0 Ok"),
    ],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(
      .unknown(
        reason:
          "the message was sent but the server's reply cannot be trusted: a reply no command "
          + "asked for: 250 2.0.0 Ok; check whether it arrived"), then: .close)),
  Case(
    name: "a stray line shifts the replies (pipelined): 250 to DATA pairs with nothing, deferred",
    script: [.reply("250 Ok"), .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go")],
    written: [mail + rcpt + "DATA\r\n"],
    end: .finish(
      .deferred(
        code: 0,
        reply: "not sent: protocol error: the reply \"250 2.1.5 Ok\" does not answer DATA"),
      then: .close)),
  Case(
    name: "a stray line shifts the replies (one at a time): deferred, never sent",
    capabilities: plain,
    script: [.reply("250 Ok"), .reply("250 Ok"), .reply("250 Ok"), .reply("354 go")],
    written: ["MAIL FROM:<a@studiovermeer.nl>\r\n", rcpt, "DATA\r\n"],
    end: .finish(
      .deferred(
        code: 0, reply: "not sent: protocol error: the reply \"250 Ok\" does not answer DATA"),
      then: .close)),
  Case(
    name: "a stray reply after 354: the body is not written",
    script: [
      .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .unasked("250 Ok"),
    ],
    written: [mail + rcpt + "DATA\r\n"],
    end: .finish(
      .deferred(code: 0, reply: "not sent: protocol error: a reply no command asked for: 250 Ok"),
      then: .close)),
  Case(
    name: "a 354 to RCPT pairs with nothing",
    capabilities: plain, script: [.reply("250 Ok"), .reply("354 go")],
    written: ["MAIL FROM:<a@studiovermeer.nl>\r\n", rcpt],
    end: .finish(
      .deferred(
        code: 0, reply: "not sent: protocol error: the reply \"354 go\" does not answer RCPT TO"),
      then: .close)),
  Case(
    name: "an unreadable final reply is never success: unknown",
    script: [.reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"), .reply("OK!")],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(
      .unknown(
        reason:
          "the message was sent but the server's reply cannot be trusted: the server sent a "
          + "line that is not an SMTP reply: \"OK!\"; check whether it arrived"), then: .close)),
  Case(
    name: "an unreadable reply before the dot: deferred",
    script: [.reply("250 2.1.0 Ok"), .reply("2500 Ok")],
    written: [mail + rcpt + "DATA\r\n"],
    end: .finish(
      .deferred(
        code: 0,
        reply:
          "not sent: protocol error: the server sent a line that is not an SMTP reply: \"2500 Ok\""
      ), then: .close)),
  Case(
    name: "a refused Bcc is noted; the customer's message goes out",
    envelope: withBcc,
    script: [
      .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("550 5.1.1 no such user"),
      .reply("354 go"), .reply(queued),
    ],
    written: [mail + rcpt + bccRcpt, "DATA\r\n", "<body>"],
    end: .finish(
      .accepted(
        code: 250, reply: queued + " (refused: archief@studiovermeer.nl: 550 5.1.1 no such user)"),
      then: .keep)),
  Case(
    name: "a refused customer with an accepted Bcc: rejected, no DATA",
    envelope: withBcc,
    script: [
      .reply("250 2.1.0 Ok"), .reply("550 5.1.1 unknown"), .reply("250 2.1.5 Ok"),
      .reply("250 2.0.0 Ok"),
    ],
    written: [mail + rcpt + bccRcpt, "RSET\r\n"],
    end: .finish(.rejected(code: 550, reply: "550 5.1.1 unknown"), then: .keep)),
  Case(
    name: "a 354 after a refused recipient: no body, the connection is dropped",
    script: [.reply("250 2.1.0 Ok"), .reply("550 5.1.1 unknown"), .reply("354 go")],
    written: [mail + rcpt + "DATA\r\n"],
    end: .finish(.rejected(code: 550, reply: "550 5.1.1 unknown"), then: .close)),
  Case(
    name: "an address with a line break is not sent at all",
    envelope: Envelope(from: "a@studiovermeer.nl", recipients: ["b@example.nl\r\nRCPT TO:<x@y>"]),
    script: [], written: [],
    end: .finish(
      .rejected(
        code: 0, reply: "not sent: the address \"b@example.nl\\r\\nRCPT TO:<x@y>\" is invalid"),
      then: .keep)),
  Case(
    name: "a multi-line final reply",
    script: [
      .reply("250 2.1.0 Ok"), .reply("250 2.1.5 Ok"), .reply("354 go"),
      .reply("250-2.0.0 Ok"), .reply("250 2.0.0 queued as X1"),
    ],
    written: [mail + rcpt + "DATA\r\n", "<body>"],
    end: .finish(.accepted(code: 250, reply: "250 2.0.0 Ok 2.0.0 queued as X1"), then: .keep)),
]

@Suite struct SMTPTransactionTests {
  @Test(arguments: transactionCases)
  func transaction(_ c: Case) {
    var tx = SMTPTransaction(
      envelope: c.envelope, messageSize: c.size, capabilities: c.capabilities,
      reusedConnection: c.reused)
    let run = drive(&tx, c.script, bodyFails: c.bodyFails)
    #expect(run.written == c.written)
    #expect(run.end == c.end, "\(run)")
  }

  /// Table: who a 5xx at RCPT is about.
  @Test(arguments: [
    ("550 5.1.1 User unknown", "rejected"),
    ("550 5.2.1 Mailbox disabled", "rejected"),
    ("552 5.2.2 Mailbox full", "rejected"),
    ("550 Requested action not taken", "rejected"),
    ("553 Bad mailbox", "rejected"),
    ("554 5.7.1 Relay access denied", "senderRefused"),
    ("550 5.7.1 Client does not have permission to send as this sender", "senderRefused"),
    ("530 5.7.0 Authentication required", "login"),
    ("535 5.7.8 Authentication credentials invalid", "login"),
    ("503 Bad sequence of commands", "deferred"),
    ("450 4.2.1 Try later", "deferred"),
    ("454 4.7.1 Relay access denied", "deferred"),
  ])
  func whoARecipientRefusalIsAbout(_ line: String, _ expected: String) throws {
    let reply = try #require(SMTPReplyReader.replies(in: Array((line + "\r\n").utf8))?.first)
    let got: String
    switch SMTPTransaction.verdict(recipient: reply, "b@example.nl") {
    case .outcome(let o, _): got = "\(o.state)"
    case .session(let code, _, _): got = code.description
    }
    #expect(got == expected)
  }
}

@Suite struct SMTPReplyReaderTests {
  @Test(arguments: [
    ("250 Ok\r\n", [SMTPReplyReader.Event.reply(SMTPReply(250, "Ok"))]),
    ("250\r\n", [.reply(SMTPReply(code: 250, lines: [""]))]),
    (
      "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n",
      [.reply(SMTPReply(code: 250, lines: ["mx.test", "PIPELINING", "SIZE 100"]))]
    ),
    ("250 a\n251 b\r\n", [.reply(SMTPReply(250, "a")), .reply(SMTPReply(251, "b"))]),
    ("250-a\r\n251 b\r\n", [.malformed("251 b")]),
    ("25 x\r\n", [.malformed("25 x")]),
    ("199 x\r\n", [.malformed("199 x")]),
    ("600 x\r\n", [.malformed("600 x")]),
    ("250x\r\n", [.malformed("250x")]),
    ("hello\r\n250 Ok\r\n", [.malformed("hello")]),
    ("250 Ok", []),
  ])
  func replies(_ text: String, _ expected: [SMTPReplyReader.Event]) {
    var reader = SMTPReplyReader()
    reader.append(Array(text.utf8))
    var got: [SMTPReplyReader.Event] = []
    while let e = reader.next() { got.append(e) }
    #expect(got == expected)
  }

  @Test func aReplySplitOverManyReadsIsOneReply() {
    var reader = SMTPReplyReader()
    var got: [SMTPReplyReader.Event] = []
    for b in "250-2.0.0 one\r\n250 2.0.0 two\r\n".utf8 {
      reader.append([b])
      while let e = reader.next() { got.append(e) }
    }
    #expect(got == [.reply(SMTPReply(code: 250, lines: ["2.0.0 one", "2.0.0 two"]))])
    #expect(!reader.hasPendingInput)
  }

  @Test func anEndlessLineIsMalformedNotABuffer() {
    var reader = SMTPReplyReader()
    reader.append(
      [UInt8](repeating: UInt8(ascii: "2"), count: SMTPReplyReader.maximumLineLength + 1))
    guard case .malformed = reader.next() else {
      Issue.record("expected malformed")
      return
    }
  }

  @Test(arguments: [
    ("250 2.1.5 Ok", EnhancedStatusCode(2, 1, 5) as EnhancedStatusCode?),
    ("550 5.1.1 <x>: unknown", EnhancedStatusCode(5, 1, 1)),
    ("554 5.7.1 Relay", EnhancedStatusCode(5, 7, 1)),
    ("552 5.3.4", EnhancedStatusCode(5, 3, 4)),
    ("550 4.1.1 class differs", nil),
    ("550 Requested action", nil),
    ("550 5.1", nil),
    ("550 5.1000.1", nil),
  ])
  func enhancedCodes(_ line: String, _ expected: EnhancedStatusCode?) throws {
    let reply = try #require(SMTPReplyReader.replies(in: Array((line + "\r\n").utf8))?.first)
    #expect(reply.enhanced == expected)
  }
}

@Suite struct SMTPCapabilitiesTests {
  func replies(_ text: String) -> [SMTPReply] {
    SMTPReplyReader.replies(in: Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
      ?? []
  }

  @Test func onlyTheEHLOAfterSTARTTLSCounts() {
    let before = replies(
      "220 mx ESMTP\n250-mx\n250-PIPELINING\n250-SIZE 1000\n250 STARTTLS\n220 2.0.0 Ready\n"
        + "250-mx\n250-AUTH PLAIN LOGIN\n250 ENHANCEDSTATUSCODES\n")
    let c = SMTPCapabilities(session: before)
    #expect(!c.pipelining, "PIPELINING was offered only before TLS (RFC 3207 §4.2)")
    #expect(c.size == nil)
    #expect(c.authMechanisms == ["PLAIN", "LOGIN"])
    #expect(c.enhancedStatusCodes)
    let after = replies(
      "220 mx ESMTP\n250-mx\n250 STARTTLS\n220 2.0.0 Ready\n250-mx\n250-PIPELINING\n"
        + "250 SIZE 10240000\n")
    #expect(
      SMTPCapabilities(session: after) == SMTPCapabilities(pipelining: true, size: 10_240_000))
  }

  @Test func implicitTLSAndPlainSessions() {
    let c = SMTPCapabilities(session: replies("220 mx\n250-mx\n250-pipelining\n250 SIZE\n"))
    #expect(c == SMTPCapabilities(pipelining: true, size: 0))
    #expect(SMTPCapabilities(session: replies("220 mx\n250 mx\n")) == SMTPCapabilities())
    #expect(SMTPCapabilities(session: []) == SMTPCapabilities())
  }
}

@Suite struct SMTPLoginTests {
  func drive(_ login: inout SMTPLogin, _ replies: [String]) -> ([String], SMTPLogin.Action) {
    var written: [String] = []
    var replies = replies[...]
    var action = login.start()
    while case .write(let bytes) = action {
      written.append(String(decoding: bytes, as: UTF8.self))
      guard let r = replies.popFirst(),
        let reply = SMTPReplyReader.replies(in: Array((r + "\r\n").utf8))?.first
      else { return (written, login.connectionLost("closed")) }
      action = login.replyReceived(reply)
    }
    return (written, action)
  }

  @Test func plainWithAnInitialResponse() {
    var l = SMTPLogin(
      username: "u", password: "p",
      capabilities: SMTPCapabilities(authMechanisms: ["PLAIN", "LOGIN"]))
    let (written, end) = drive(&l, ["235 2.7.0 Authentication successful"])
    #expect(written == ["AUTH PLAIN AHUAcA==\r\n"])
    #expect(end == .done)
  }

  @Test func loginWhenPlainIsNotOffered() {
    var l = SMTPLogin(
      username: "u", password: "p", capabilities: SMTPCapabilities(authMechanisms: ["LOGIN"]))
    let (written, end) = drive(&l, ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 Ok"])
    #expect(written == ["AUTH LOGIN\r\n", "dQ==\r\n", "cA==\r\n"])
    #expect(end == .done)
  }

  @Test func aRefusedLoginEndsWithQUITAndNeverShowsThePassword() {
    var l = SMTPLogin(
      username: "u", password: "geheim-123",
      capabilities: SMTPCapabilities(authMechanisms: ["PLAIN"]))
    let (_, end) = drive(&l, ["535 5.7.8 Error: authentication failed"])
    guard case .refuse(let e, let fate) = end else {
      Issue.record("expected a refusal, got \(end)")
      return
    }
    #expect(e.code == .login)
    #expect(fate == .quit)
    #expect(e.message.contains("535 5.7.8 Error: authentication failed"))
    #expect(!e.message.contains("geheim-123"))
  }

  @Test func aTemporaryFailureIsUnavailableAndNoMechanismIsALoginProblem() {
    var l = SMTPLogin(
      username: "u", password: "p", capabilities: SMTPCapabilities(authMechanisms: ["PLAIN"]))
    if case .refuse(let e, _) = drive(&l, ["454 4.7.0 Temporary authentication failure"]).1 {
      #expect(e.code == .unavailable)
    } else {
      Issue.record("expected a refusal")
    }
    var none = SMTPLogin(
      username: "u", password: "p", capabilities: SMTPCapabilities(authMechanisms: ["CRAM-MD5"]))
    if case .refuse(let e, let fate) = none.start() {
      #expect(e.code == .login)
      #expect(e.message.contains("only CRAM-MD5"))
      #expect(fate == .quit)
    } else {
      Issue.record("expected a refusal")
    }
  }
}

@Suite struct OpeningErrorTests {
  let settings = SMTPSettings(
    host: "smtp.example.nl", port: 587, security: .starttls, timeoutSeconds: 60)

  @Test(arguments: [
    (
      CURLE_COULDNT_CONNECT, 0, 0, TransportError.Code.unreachable,
      "cannot connect to smtp.example.nl:587"
    ),
    (CURLE_COULDNT_RESOLVE_HOST, 0, 0, .unreachable, "cannot find the mail server smtp.example.nl"),
    (
      CURLE_OPERATION_TIMEDOUT, 0, 0, .unreachable, "no answer from smtp.example.nl:587 within 60 s"
    ),
    (CURLE_WEIRD_SERVER_REPLY, 421, 0, .unavailable, "would not open a session now (421"),
    (CURLE_PEER_FAILED_VERIFICATION, 0, 20, .tls, "signed by an authority we do not trust"),
    (CURLE_PEER_FAILED_VERIFICATION, 0, 19, .tls, "set smtp.caFile"),
    (CURLE_PEER_FAILED_VERIFICATION, 0, 10, .tls, "has expired"),
    (CURLE_PEER_FAILED_VERIFICATION, 0, 0, .tls, "not made out to smtp.example.nl"),
    (CURLE_PEER_FAILED_VERIFICATION, 0, 1, .tls, "not made out to smtp.example.nl"),
    (CURLE_USE_SSL_FAILED, 0, 0, .tls, "does not offer STARTTLS"),
    (CURLE_SSL_CONNECT_ERROR, 0, 0, .tls, "the TLS handshake with smtp.example.nl:587 failed"),
    (CURLE_SEND_ERROR, 530, 0, .tls, "requires TLS"),
  ])
  func openingErrors(
    _ rc: CURLcode, _ response: Int, _ verify: Int, _ code: TransportError.Code, _ words: String
  ) {
    let reply = response == 0 ? nil : SMTPReply(response, "4.7.0 too many connections")
    let e = TransportError.opening(
      OpeningFailure(
        rc: rc, detail: "", responseCode: response, verifyResult: verify, reply: reply),
      settings: settings)
    #expect(e.code == code)
    #expect(e.message.contains(words), "\(e.message)")
    #expect(!e.message.contains("connection lost"))
    let cause = e.cause as? CurlError
    #expect(cause?.name.hasPrefix("CURLE_") == true)
  }
}
