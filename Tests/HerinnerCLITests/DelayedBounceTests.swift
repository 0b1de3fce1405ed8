import Foundation
import HerinnerCore
import HerinnerLedger
import HerinnerTestSupport
import Testing

/// Issue 16: Postfix's own "delayed mail" notice (RFC 3464 `Action: delayed`, a 4.x.x status)
/// on a reminder is a soft bounce: `bounces import` notes it and the delivery stays `sent`.
///
/// A private Postfix instance (the shared one keeps its queue timing) routes one recipient to a
/// closed loopback port, so every attempt is deferred ("connection refused"), and warns the
/// sender after `delay_warning_time = 1s`; short backoff times make it retry at once.
@Suite(.serialized) struct DelayedBounceTests {
  static let slowRecipient = "traag@example.nl"

  @Test func postfixsDelayNoticeIsASoftBounceAndTheLetterStaysSent() throws {
    let postfix = try PostfixServer.own(
      mainCF: [
        "delay_warning_time = 1s", "queue_run_delay = 1s", "minimal_backoff_time = 1s",
        "maximal_backoff_time = 2s",
      ],
      // Port 1 (tcpmux): nothing listens there, and test servers take ephemeral ports.
      transport: ["\(Self.slowRecipient) smtp:[127.0.0.1]:1"])
    defer { postfix.stop() }
    let ex = try ExampleCopy()
    try ex.useServer(
      port: postfix.starttlsPort, security: "starttls",
      extra: [
        "username": PostfixServer.username, "passwordEnv": "HERINNER_SMTP_PASSWORD",
        "caFile": postfix.caFile,
      ])
    let env = ["HERINNER_SMTP_PASSWORD": PostfixServer.password]

    ex.oneConsumerInvoice(email: Self.slowRecipient)
    let sent = try ex.send("2026-12-01", env: env)
    #expect(sent.status == 0, "\(sent.stderr)")
    let letter = try #require(try ex.ledger().deliveries(invoice: "2026-0102").first)
    #expect(letter.state == .sent)
    let id = letter.messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))

    // The reminder itself is never delivered, so the only stored message naming it is the
    // notice Postfix wrote to the sender.
    let dsn = try #require(
      postfix.delivered(messageID: id, timeout: 60),
      "Postfix wrote no delay notice for \(id) within 60 s; its log:\n\(postfix.log())")
    let text = String(decoding: dsn, as: UTF8.self)
    #expect(text.contains("Action: delayed"), "\(text)")
    #expect(text.contains("Final-Recipient: rfc822; \(Self.slowRecipient)"), "\(text)")
    let file = ex.path + "/postfix-delay.eml"
    try Data(dsn).write(to: URL(fileURLWithPath: file))

    let r = try herinner(
      ["bounces", "import", "--json", "--config", ex.config, file], in: ex.path,
      environment: env)
    #expect(r.status == 0, "a soft bounce needs no person: \(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    try #require(lines.count == 1, "\(r.stdout)")
    let o = try #require(
      try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    #expect(o["kind"] as? String == "soft", "\(o)")
    let status = try #require(o["status"] as? String, "\(o)")
    #expect(status.hasPrefix("4."), "\(o)")
    #expect(status.split(separator: ".").count == 3, "\(o)")
    #expect(o["recipient"] as? String == Self.slowRecipient, "\(o)")
    #expect(
      (o["messageId"] as? String)?.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
        == id, "\(o)")
    #expect(o["invoice"] as? String == "2026-0102", "\(o)")
    #expect(o["step"] as? String == letter.step.rawValue, "\(o)")

    // Only noted: the letter is still sent, and still counts.
    #expect(try ex.ledger().deliveries(invoice: "2026-0102").first?.state == .sent)
    let history = try herinner(
      ["history", "--config", ex.config, "2026-0102"], in: ex.path, environment: env)
    #expect(history.status == 0, "\(history.stderr)")
    #expect(history.stdout.contains("returned mail: soft \(status)"), "\(history.stdout)")
  }
}
