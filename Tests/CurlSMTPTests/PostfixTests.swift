import Foundation
import HerinnerCore
import HerinnerTestSupport
import Testing

@testable import CurlSMTP

/// A complete message (From, To, Date, Message-ID: Postfix adds none of its own), CRLF
/// throughout, with a line that starts with a dot and a base64 attachment.
func postfixMessage(_ id: String, attachmentBytes: Int = 30_000) -> [UInt8] {
  var s =
    "From: Studio Vermeer <administratie@studiovermeer.nl>\r\nTo: b@example.nl\r\n"
    + "Date: Wed, 02 Dec 2026 09:00:00 +0100\r\nSubject: Betalingsherinnering\r\n"
    + "Message-ID: <\(id)>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    + "\r\nGeachte heer,\r\n.een regel met een punt\r\n"
  s += Data((0..<attachmentBytes).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    .base64EncodedString(options: [
      .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
    ])
  return Array((s + "\r\n").utf8)
}

func postfixSettings(
  _ port: Int, _ security: SMTPSettings.Security = .starttls,
  username: String? = PostfixServer.username, password: String = PostfixServer.password,
  ca: String?
) -> SMTPSettings {
  SMTPSettings(
    host: "127.0.0.1", port: port, security: security, username: username, password: password,
    caFile: ca, timeoutSeconds: 20, heloName: "studiovermeer.nl")
}

func newID() -> String { "t\(UUID().uuidString.prefix(13))@studiovermeer.nl" }

let toCustomer = Envelope(from: PostfixServer.sender, recipients: ["b@example.nl"])

/// The transport against a real Postfix submission server. Serialized: some ports allow one
/// session, and the log is read per test.
@Suite(.serialized) struct PostfixTransportTests {
  let server: PostfixServer
  init() throws { server = try PostfixServer.shared() }

  @Test func starttlsDeliversTheExactBytesAndReportsTheQueueID() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.starttlsPort, ca: server.caFile))
    let id = newID()
    let message = postfixMessage(id)
    let outcome = try t.send(message, envelope: toCustomer)
    guard case .accepted(250, let reply) = outcome else {
      Issue.record("expected accepted, got \(outcome)")
      return
    }
    let queueID = try #require(reply.components(separatedBy: "queued as ").last)
    #expect(reply.hasPrefix("250 2.0.0 Ok: queued as "))
    // Capabilities from the EHLO after STARTTLS (RFC 3207).
    #expect(t.capabilities.pipelining)
    #expect(t.capabilities.size == 10_240_000)
    let stored = try #require(server.delivered(messageID: id))
    #expect(withoutPostfixHeaders(stored) == message)
    #expect(String(decoding: stored, as: UTF8.self).contains("with ESMTPSA id \(queueID)\n"))
  }

  @Test func implicitTLSAndThreeMessagesOnOneConnection() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.tlsPort, .tls, ca: server.caFile))
    let ids = (0..<3).map { _ in newID() }
    for id in ids {
      #expect(
        try t.send(postfixMessage(id, attachmentBytes: 2_000), envelope: toCustomer).state == .sent)
    }
    for id in ids { #expect(server.delivered(messageID: id) != nil) }
  }

  @Test func aWrongPasswordIsALoginErrorAndTheSessionEndsWithQUIT() throws {
    let before = server.log().components(separatedBy: "auth=0/1 quit=1").count
    let t = CurlSMTPTransport(
      settings: postfixSettings(
        server.starttlsPort, password: "fout-wachtwoord-9", ca: server.caFile))
    do {
      try t.verify()
      Issue.record("expected a refused login")
    } catch {
      #expect(error.code == .login)
      #expect(error.message.contains("535 5.7.8"), "\(error.message)")
      #expect(!error.message.contains("fout-wachtwoord-9"))
    }
    // Postfix logs each session's commands when it ends: the refused AUTH, then QUIT.
    var after = before
    for _ in 0..<50 where after == before {
      Thread.sleep(forTimeInterval: 0.1)
      after = server.log().components(separatedBy: "auth=0/1 quit=1").count
    }
    #expect(after == before + 1, "no session with a failed AUTH and a QUIT in the log")
  }

  @Test func aCertificateFromAnUnknownCAIsATLSErrorThatSaysSo() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.starttlsPort, ca: nil))
    do {
      _ = try t.send(postfixMessage(newID()), envelope: toCustomer)
      Issue.record("expected a TLS error")
    } catch {
      #expect(error.code == .tls)
      #expect(error.message.contains("signed by an authority we do not trust"), "\(error.message)")
      #expect((error.cause as? CurlError)?.name == "CURLE_PEER_FAILED_VERIFICATION")
    }
  }

  @Test func withoutALoginTheServerRefusesUsNotTheRecipient() throws {
    let t = CurlSMTPTransport(
      settings: postfixSettings(server.starttlsPort, username: nil, ca: server.caFile))
    do {
      _ = try t.send(postfixMessage(newID()), envelope: toCustomer)
      Issue.record("expected the session to be refused")
    } catch {
      #expect(error.code == .senderRefused, "\(error.message)")
    }
  }

  @Test func aSenderTheLoginDoesNotOwnIsRefusedAtMAILFROM() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.starttlsPort, ca: server.caFile))
    let id = newID()
    do {
      _ = try t.send(
        postfixMessage(id),
        envelope: Envelope(from: "iemand@studiovermeer.nl", recipients: ["b@example.nl"]))
      Issue.record("expected the sender to be refused")
    } catch {
      #expect(error.code == .senderRefused)
      #expect(error.message.contains("553 5.7.1"), "\(error.message)")
      #expect((error.cause as? SMTPReply)?.enhanced == EnhancedStatusCode(5, 7, 1))
    }
  }

  @Test func aRefusedRecipientIsRejectedAndTheConnectionGoesOn() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.starttlsPort, ca: server.caFile))
    let outcome = try t.send(
      postfixMessage(newID()),
      envelope: Envelope(from: PostfixServer.sender, recipients: [PostfixServer.refusedRecipient]))
    #expect(
      outcome
        == .rejected(
          code: 550,
          reply:
            "550 5.1.1 <\(PostfixServer.refusedRecipient)>: Recipient address rejected: User unknown"
        ))
    let id = newID()
    #expect(try t.send(postfixMessage(id), envelope: toCustomer).state == .sent)
    #expect(server.delivered(messageID: id) != nil)
  }

  @Test func withoutPipeliningOneCommandAtATime() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.noPipeliningPort, ca: server.caFile))
    let id = newID()
    let message = postfixMessage(id)
    #expect(try t.send(message, envelope: toCustomer).state == .sent)
    #expect(!t.capabilities.pipelining)
    let stored = try #require(server.delivered(messageID: id))
    #expect(withoutPostfixHeaders(stored) == message)
    // A refusal is read as such one command at a time too.
    let refused = try t.send(
      postfixMessage(newID()),
      envelope: Envelope(from: PostfixServer.sender, recipients: [PostfixServer.refusedRecipient]))
    #expect(refused.state == .rejected)
  }

  @Test func aMessageOverTheServersSizeIsNotAttempted() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.smallPort, ca: server.caFile))
    let big = postfixMessage(newID(), attachmentBytes: PostfixServer.sizeLimit)
    let outcome = try t.send(big, envelope: toCustomer)
    guard case .notAttempted(let reason) = outcome else {
      Issue.record("expected not attempted, got \(outcome)")
      return
    }
    #expect(outcome.state == .deferred, "stays due")
    #expect(reason.contains("at most \(PostfixServer.sizeLimit)"))
    #expect(t.capabilities.size == PostfixServer.sizeLimit)
    // The connection is still in step, and SIZE= goes with MAIL FROM.
    let id = newID()
    #expect(
      try t.send(postfixMessage(id, attachmentBytes: 1_000), envelope: toCustomer).state == .sent)
    #expect(server.delivered(messageID: id) != nil)
  }

  @Test func aRefusalThatEndsTheSessionStaysARefusal() throws {
    // smtpd_hard_error_limit = 1: Postfix hangs up after the 550, with DATA still unanswered.
    let t = CurlSMTPTransport(
      settings: postfixSettings(server.hardErrorLimitPort, ca: server.caFile))
    let outcome = try t.send(
      postfixMessage(newID()),
      envelope: Envelope(from: PostfixServer.sender, recipients: [PostfixServer.refusedRecipient]))
    #expect(outcome.state == .rejected, "\(outcome)")
    #expect(outcome.code == 550)
    let id = newID()
    #expect(try t.send(postfixMessage(id), envelope: toCustomer).state == .sent)
    #expect(server.delivered(messageID: id) != nil)
  }

  @Test func aSecondSessionRefusedWith421IsACouldNotOpenThatLeavesTheFirstAlone() throws {
    let first = CurlSMTPTransport(
      settings: postfixSettings(server.oneSessionPort, ca: server.caFile))
    try first.verify()
    let second = CurlSMTPTransport(
      settings: postfixSettings(server.oneSessionPort, ca: server.caFile))
    do {
      try second.verify()
      Issue.record("expected the second session to be refused")
    } catch {
      #expect(error.code == .unavailable)
      #expect(error.isOpeningFailure)
      #expect(error.message.contains("would not open a session now (421"), "\(error.message)")
      #expect(!error.message.contains("connection lost"))
    }
    let id = newID()
    #expect(try first.send(postfixMessage(id), envelope: toCustomer).state == .sent)
    #expect(server.delivered(messageID: id) != nil)
  }

  /// Postfix closes an idle session with "421 4.4.2 … timeout exceeded": the next message
  /// opens a new session and goes out once.
  @Test func aSessionTheServerClosedWhileIdleIsOpenedAgain() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.idlePort, ca: server.caFile))
    let first = newID()
    #expect(try t.send(postfixMessage(first), envelope: toCustomer).state == .sent)
    Thread.sleep(forTimeInterval: 3)
    #expect(server.log().contains("postfix/p\(server.idlePort)/smtpd"))
    #expect(server.log().contains("timeout after END-OF-MESSAGE"), "Postfix closed the session")
    let second = newID()
    #expect(try t.send(postfixMessage(second), envelope: toCustomer).state == .sent)
    #expect(server.delivered(messageID: first) != nil)
    #expect(server.delivered(messageID: second) != nil)
    let copies = server.deliveredMessages().filter {
      String(decoding: $0, as: UTF8.self).contains("Message-ID: <\(second)>")
    }
    #expect(copies.count == 1)
  }

  @Test func aBccGoesInTheEnvelopeOnly() throws {
    let t = CurlSMTPTransport(settings: postfixSettings(server.starttlsPort, ca: server.caFile))
    let id = newID()
    let message = postfixMessage(id)
    let outcome = try t.send(
      message,
      envelope: Envelope(
        from: PostfixServer.sender, recipients: ["b@example.nl", "archief@studiovermeer.nl"]))
    #expect(outcome.state == .sent)
    _ = server.delivered(messageID: id)
    var copies: [String] = []
    for _ in 0..<100 {
      copies = server.deliveredMessages().map { String(decoding: $0, as: UTF8.self) }
        .filter { $0.contains("Message-ID: <\(id)>") }
      if copies.count == 2 { break }
      Thread.sleep(forTimeInterval: 0.1)
    }
    #expect(copies.count == 2)
    #expect(copies.contains { $0.contains("Delivered-To: archief@studiovermeer.nl\n") })
    #expect(copies.allSatisfy { withoutPostfixHeaders(Array($0.utf8)) == message })
  }
}
