import CurlSMTP
import Foundation
import HerinnerCore
import HerinnerTestSupport
import Testing

/// A realistic message: headers and a 100 KB base64 attachment, CRLF throughout, with a line
/// that starts with a dot (libcurl must dot-stuff it).
func sampleMessage(_ n: Int = 0, attachmentBytes: Int = 100_000) -> [UInt8] {
  var s =
    "From: a@studiovermeer.nl\r\nTo: b@example.nl\r\nSubject: test \(n)\r\nMessage-ID: <m\(n)@studiovermeer.nl>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody line\r\n.leading dot\r\n"
  let payload = Data((0..<attachmentBytes).map { UInt8(($0 &* 31 &+ n) % 256) })
    .base64EncodedString(options: [
      .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
    ])
  s += payload + "\r\n"
  return Array(s.utf8)
}

let envelope = Envelope(from: "a@studiovermeer.nl", recipients: ["b@example.nl"])

func settings(
  _ server: TestSMTPServer, _ security: SMTPSettings.Security = .none, user: String? = nil,
  password: String? = nil, ca: Bool = true
) -> SMTPSettings {
  SMTPSettings(
    host: "127.0.0.1", port: server.port, security: security, username: user, password: password,
    caFile: ca ? server.caFile : nil, timeoutSeconds: 20, heloName: "studiovermeer.nl")
}

@Suite(.serialized) struct TransportTests {
  @Test func plainDeliveryIsByteExactAndReportsTheQueueID() throws {
    let server = try TestSMTPServer()
    let t = CurlSMTPTransport(settings: settings(server))
    let msg = sampleMessage()
    let outcome = try t.send(msg, envelope: envelope)
    guard case .accepted(let code, let reply) = outcome else {
      Issue.record("expected accepted, got \(outcome)")
      return
    }
    #expect(code == 250)
    #expect(reply.hasPrefix("250 2.0.0 OK queued as HQ"))
    let got = try #require(server.received().first)
    #expect(got.data == msg)
    #expect(got.from == "a@studiovermeer.nl")
    #expect(got.to == ["b@example.nl"])
  }

  @Test func starttlsWithAuthAgainstAPrivateCA() throws {
    let server = try TestSMTPServer(["--tls", "starttls", "--auth", "herinner:geheim-wachtwoord"])
    let t = CurlSMTPTransport(
      settings: settings(server, .starttls, user: "herinner", password: "geheim-wachtwoord"))
    for i in 0..<3 {
      #expect(try t.send(sampleMessage(i), envelope: envelope).state == .sent)
    }
    #expect(server.received().count == 3)
    #expect(server.received()[2].data == sampleMessage(2))
  }

  @Test func wrongPasswordIsALoginFailureThatNeverShowsThePassword() throws {
    let server = try TestSMTPServer(["--tls", "starttls", "--auth", "herinner:goed"])
    let t = CurlSMTPTransport(
      settings: settings(server, .starttls, user: "herinner", password: "fout-wachtwoord-123"))
    do {
      _ = try t.send(sampleMessage(), envelope: envelope)
      Issue.record("expected a login failure")
    } catch {
      #expect(error.code == .login)
      #expect(!error.message.contains("fout-wachtwoord-123"))
    }
    #expect(!t.settings.description.contains("fout-wachtwoord-123"))
    #expect(server.received().isEmpty)
  }

  @Test func anUntrustedCertificateFailsVerification() throws {
    let server = try TestSMTPServer(["--tls", "starttls"])
    let t = CurlSMTPTransport(settings: settings(server, .starttls, ca: false))
    #expect {
      try t.send(sampleMessage(), envelope: envelope)
    } throws: { ($0 as? TransportError)?.code == .tls }
    #expect(server.received().isEmpty)
  }

  /// Each TLS failure says what is wrong with the certificate, not only that TLS failed.
  @Test(arguments: [
    (["--cert-name", "mail.elders.example"], "not made out to 127.0.0.1"),
    (["--cert-expired"], "has expired"),
  ])
  func aCertificateProblemIsNamed(_ options: [String], _ words: String) throws {
    let server = try TestSMTPServer(["--tls", "starttls"] + options)
    let t = CurlSMTPTransport(settings: settings(server, .starttls))
    do {
      _ = try t.send(sampleMessage(), envelope: envelope)
      Issue.record("expected a TLS error")
    } catch {
      #expect(error.code == .tls)
      #expect(error.message.contains(words), "\(error.message)")
      #expect((error.cause as? CurlError)?.name == "CURLE_PEER_FAILED_VERIFICATION")
    }
    #expect(server.received().isEmpty)
  }

  @Test func plaintextToAServerThatRequiresSTARTTLSIsRefused() throws {
    let server = try TestSMTPServer(["--tls", "starttls"])
    let t = CurlSMTPTransport(settings: settings(server, .none))
    do {
      _ = try t.send(sampleMessage(), envelope: envelope)
      Issue.record("expected the session to be refused")
    } catch {
      // aiosmtpd answers MAIL FROM with 530 (RFC 3207 §4): about the session, not the message.
      #expect(error.code == .login)
      #expect(error.message.contains("TLS"), "\(error.message)")
      #expect(error.message.contains("smtp.security"))
    }
    #expect(server.received().isEmpty)
  }

  @Test func implicitTLS() throws {
    let server = try TestSMTPServer(["--tls", "implicit"])
    let t = CurlSMTPTransport(settings: settings(server, .tls))
    #expect(try t.send(sampleMessage(), envelope: envelope).state == .sent)
  }

  @Test func rejectedAtRCPT() throws {
    let server = try TestSMTPServer(["--reject-rcpt", "unknown"])
    let t = CurlSMTPTransport(settings: settings(server))
    let outcome = try t.send(
      sampleMessage(),
      envelope: Envelope(from: "a@studiovermeer.nl", recipients: ["unknown@example.nl"]))
    #expect(outcome.state == .rejected)
    #expect(outcome.code == 550)
    #expect(outcome.reply.contains("User unknown"))
    // The same handle goes on to the next message.
    #expect(try t.send(sampleMessage(1), envelope: envelope).state == .sent)
    #expect(server.received().count == 1)
  }

  @Test func perRecipient_aRefusedBccIsNotedButTheMessageGoesOut() throws {
    let server = try TestSMTPServer(["--reject-rcpt", "unknown"])
    let t = CurlSMTPTransport(settings: settings(server))
    let outcome = try t.send(
      sampleMessage(),
      envelope: Envelope(
        from: "a@studiovermeer.nl", recipients: ["b@example.nl", "unknown@studiovermeer.nl"]))
    #expect(outcome.state == .sent, "\(outcome)")
    #expect(outcome.reply.contains("refused: unknown@studiovermeer.nl: 550"))
    #expect(server.received().first?.to == ["b@example.nl"])
  }

  @Test func perRecipient_theCustomersRefusalDecidesEvenWithABcc() throws {
    let server = try TestSMTPServer(["--reject-rcpt", "unknown"])
    let t = CurlSMTPTransport(settings: settings(server))
    let outcome = try t.send(
      sampleMessage(),
      envelope: Envelope(
        from: "a@studiovermeer.nl", recipients: ["unknown@example.nl", "archief@studiovermeer.nl"]))
    #expect(outcome.state == .rejected)
    #expect(outcome.code == 550)
  }

  @Test func deferredAfterDATA() throws {
    let server = try TestSMTPServer(["--defer-data"])
    let outcome = try CurlSMTPTransport(settings: settings(server)).send(
      sampleMessage(), envelope: envelope)
    #expect(outcome.state == .deferred)
    #expect(outcome.code == 451)
  }

  @Test func aConnectionDroppedMidDATAIsDeferred() throws {
    let server = try TestSMTPServer(["--drop", "mid-data"])
    // Large enough that the socket buffers cannot swallow it: the drop comes mid-upload.
    let outcome = try CurlSMTPTransport(settings: settings(server)).send(
      sampleMessage(attachmentBytes: 24_000_000), envelope: envelope)
    #expect(outcome.state == .deferred, "\(outcome)")
    #expect(server.received().isEmpty)
  }

  @Test func aConnectionDroppedAfterDATAWithoutAReplyIsUnknown() throws {
    let server = try TestSMTPServer(["--drop", "after-data"])
    let outcome = try CurlSMTPTransport(settings: settings(server)).send(
      sampleMessage(), envelope: envelope)
    #expect(outcome.state == .unknown, "\(outcome)")
    #expect(server.received().count == 1, "the server did get it: hence unknown, never deferred")
  }

  /// A stray reply line would shift every later reply by one: paired with their commands, the
  /// replies no longer fit, and the message is deferred, never counted as sent.
  @Test(arguments: [["--stray", "rcpt"], ["--stray", "rcpt", "--pipelining"]])
  func aStrayReplyBeforeTheDataIsDeferred(_ options: [String]) throws {
    let server = try TestSMTPServer(options)
    let t = CurlSMTPTransport(settings: settings(server))
    for i in 0..<2 {
      let outcome = try t.send(sampleMessage(i), envelope: envelope)
      #expect(outcome.state == .deferred, "\(outcome)")
      #expect(outcome.reply.contains("protocol error"), "\(outcome)")
    }
    #expect(server.received().isEmpty)
  }

  /// After the final dot the server may have the message: a reply that cannot be trusted makes
  /// it unknown, never sent.
  @Test(arguments: [["--stray", "final"], ["--garbage"], ["--garbage", "--pipelining"]])
  func anUntrustworthyFinalReplyIsUnknown(_ options: [String]) throws {
    let server = try TestSMTPServer(options)
    let t = CurlSMTPTransport(settings: settings(server))
    let message = sampleMessage()
    let outcome = try t.send(message, envelope: envelope)
    #expect(outcome.state == .unknown, "\(outcome)")
    #expect(server.received().count == 1)
    // The server announces SIZE: MAIL FROM says how large the message is (RFC 1870).
    #expect(server.received().first?.from == "<a@studiovermeer.nl> SIZE=\(message.count)")
  }

  @Test func aClosedPortIsUnreachable() throws {
    let port = try freePort()
    let t = CurlSMTPTransport(
      settings: SMTPSettings(host: "127.0.0.1", port: port, security: .none, timeoutSeconds: 5))
    do {
      _ = try t.send(sampleMessage(), envelope: envelope)
      Issue.record("expected unreachable")
    } catch {
      #expect(error.code == .unreachable)
      #expect(error.message.contains("cannot connect to 127.0.0.1:\(port)"), "\(error.message)")
      #expect(!error.message.contains("DATA"))
      #expect((error.cause as? CurlError)?.name == "CURLE_COULDNT_CONNECT")
    }
  }

  /// Volume: 1,000 messages over one reused connection to Postfix's smtp-sink, every one accepted.
  @Test func aThousandMessagesToSMTPSinkOverAReusedConnection() throws {
    let sink = try SMTPSink()
    let t = CurlSMTPTransport(
      settings: SMTPSettings(
        host: "127.0.0.1", port: sink.port, security: .none, timeoutSeconds: 20))
    let msg = sampleMessage(attachmentBytes: 20_000)
    var accepted = 0
    for _ in 0..<1000 {
      if case .accepted = try t.send(msg, envelope: envelope) { accepted += 1 }
    }
    #expect(accepted == 1000)
  }
}

/// herinner speaks the mail transaction itself (pipelined where offered): checked against
/// Postfix's smtp-sink, which offers PIPELINING and can dump what it received.
@Suite(.serialized) struct PipelinedTransactionTests {
  /// Dot-stuffing (a dot at the very start and at line starts), a message without a final CRLF,
  /// and a Bcc (MAIL and both RCPTs in one write, DATA after): smtp-sink's dumps hold the
  /// exact content (it writes LF line ends) and both recipients.
  @Test func dotsBccAndAMissingFinalCRLFArriveExactly() throws {
    let dumps = NSTemporaryDirectory() + "herinner-sink-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dumps, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dumps) }
    chmod(dumps, 0o777)  // smtp-sink writes as nobody
    let sink = try SMTPSink(["-d", dumps + "/%M."])
    let t = CurlSMTPTransport(
      settings: SMTPSettings(host: "127.0.0.1", port: sink.port, security: .none))
    let messages: [(String, [String])] = [
      (".dot first\r\nSubject: one\r\n\r\n.\r\n..two dots\r\nend\r\n", ["b@example.nl"]),
      ("Subject: two\r\n\r\nline\r\n.dotted\r\n", ["b@example.nl", "archief@studiovermeer.nl"]),
      ("Subject: three\r\n\r\nno final line break", ["b@example.nl"]),
    ]
    for (text, recipients) in messages {
      let outcome = try t.send(
        Array(text.utf8), envelope: Envelope(from: "a@studiovermeer.nl", recipients: recipients))
      #expect(outcome.state == .sent, "\(outcome)")
    }
    // smtp-sink writes the dump when the transaction ends; give it a moment.
    var files: [String] = []
    for _ in 0..<50 {
      files = try FileManager.default.contentsOfDirectory(atPath: dumps)
      if files.count == 3 { break }
      Thread.sleep(forTimeInterval: 0.1)
    }
    #expect(files.count == 3)
    let dumped = try files.map { try String(contentsOfFile: dumps + "/" + $0, encoding: .utf8) }
    for (text, recipients) in messages {
      let subject = text.components(separatedBy: "Subject: ")[1].prefix { !$0.isNewline }
      let dump = try #require(dumped.first { $0.contains("Subject: \(subject)\n") })
      for r in recipients { #expect(dump.contains("X-Rcpt-Args: <\(r)>\n")) }
      // The content follows smtp-sink's own Received header (three lines).
      let body = dump.components(separatedBy: "\n").drop { !$0.hasPrefix("Received:") }.dropFirst(3)
        .joined(separator: "\n")
      var expected = text.replacingOccurrences(of: "\r\n", with: "\n")
      if !expected.hasSuffix("\n") { expected += "\n" }
      expected += "\n"  // smtp-sink ends each dump with an empty line
      #expect(body == expected, "\(subject)")
    }
  }

  /// A server that closed an idle connection: the next message opens a new one and goes out.
  @Test func anIdleConnectionTheServerClosedIsReopened() throws {
    let sink = try SMTPSink(["-t", "1"])
    let t = CurlSMTPTransport(
      settings: SMTPSettings(host: "127.0.0.1", port: sink.port, security: .none))
    #expect(try t.send(sampleMessage(1), envelope: envelope).state == .sent)
    Thread.sleep(forTimeInterval: 2.5)
    #expect(try t.send(sampleMessage(2), envelope: envelope).state == .sent)
  }
}
