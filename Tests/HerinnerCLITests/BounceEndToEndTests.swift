import Foundation
import HerinnerCore
import HerinnerLedger
import HerinnerTestSupport
import Testing

extension ExampleCopy {
  /// Adds the `bounces` section: the test Dovecot's mailbox for user `bounces`.
  func useMailbox(
    _ dovecot: DovecotServer, caFile: String? = nil, processedFolder: String? = "INBOX/herinner",
    passwordEnv: String = "HERINNER_IMAP_PASSWORD"
  ) throws {
    var c =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config)))
      as! [String: Any]
    var bounces: [String: Any] = [
      "imap": [
        "url": dovecot.url, "username": "bounces", "passwordEnv": passwordEnv,
        "caFile": caFile ?? dovecot.caFile,
      ]
    ]
    if let processedFolder { bounces["processedFolder"] = processedFolder }
    c["bounces"] = bounces
    try JSONSerialization.data(withJSONObject: c, options: [.prettyPrinted]).write(
      to: URL(fileURLWithPath: config))
  }

  /// One consumer invoice (the example's 2026-0102) sent to `email`.
  func oneConsumerInvoice(email: String) {
    write(
      "Examples/invoices.csv",
      "number;customer_id;customer;contact;email;kind;issued;due;amount;paid;currency;status;pdf;language;phone;reference\n"
        + "2026-0102;K-002;J. Jansen;heer Jansen;\(email);consumer;2026-11-06;2026-11-20;89,95;;EUR;open;factuur-2026-0102.pdf;nl;06 1234 5678;\n"
    )
  }
}

let imapPassword = ["HERINNER_IMAP_PASSWORD": "geheim"]

/// Issue 16's end: a consumer's 14-day letter sent through the real Postfix to an address that
/// does not exist comes back as Postfix's own DSN; `bounces fetch` reads it from a real Dovecot,
/// and the invoice is never handed to collection with costs.
///
/// Postfix delivers its DSN into its own test Maildir (the sender's mailbox); the test moves
/// that file into the Dovecot Maildir as a delivery agent would (the two servers share no
/// delivery path in this setup).
@Suite(.serialized) struct BounceEndToEndTests {
  @Test func aBouncedFourteenDayLetterIsFetchedAndTheInvoiceNeverGoesToCollection() throws {
    let postfix = try PostfixServer.shared()
    let dovecot = try DovecotServer()
    let ex = try ExampleCopy()
    try ex.useServer(
      port: postfix.starttlsPort, security: "starttls",
      extra: [
        "username": PostfixServer.username, "passwordEnv": "HERINNER_SMTP_PASSWORD",
        "caFile": postfix.caFile,
      ])
    try ex.useMailbox(dovecot)
    let env = ["HERINNER_SMTP_PASSWORD": PostfixServer.password].merging(imapPassword) { $1 }

    ex.oneConsumerInvoice(email: "jan.jansen@example.nl")
    let first = try ex.send("2026-12-01", env: env)
    #expect(first.status == 0, "\(first.stderr)")
    // The customer moved: the 14-day letter goes to an address that no longer exists.
    ex.oneConsumerInvoice(email: PostfixServer.bouncingRecipient)
    let second = try ex.send("2026-12-15", env: env)
    #expect(second.status == 0, "\(second.stderr)")
    let letter = try #require(
      try ex.ledger().deliveries(invoice: "2026-0102").first { $0.step == .second })
    #expect(letter.state == .sent)

    let id = letter.messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
    let dsn = try #require(
      postfix.delivered(messageID: id, timeout: 30), "Postfix returned no DSN for \(id)")
    #expect(String(decoding: dsn, as: UTF8.self).contains("multipart/report"))
    try dovecot.deliver(dsn, to: "bounces", name: "1.postfix-dsn")

    let fetch = try herinner(
      ["bounces", "fetch", "--json", "--config", ex.config], in: ex.path, environment: env)
    #expect(fetch.status == 1, "a hard bounce needs a person: \(fetch.stderr)")
    #expect(fetch.stdout.contains("\"kind\":\"hard\""))
    #expect(fetch.stdout.contains("\"invoice\":\"2026-0102\""))
    #expect(fetch.stdout.contains("\"step\":\"second\""))
    #expect(fetch.stderr.contains("phone, or send by post"))
    #expect(
      try ex.ledger().deliveries(invoice: "2026-0102").first { $0.step == .second }?.state
        == .bounced)
    // Moved to the processed folder; a rerun reads nothing.
    #expect(dovecot.files("bounces").isEmpty)
    #expect(dovecot.files("bounces", folder: "INBOX/herinner").count == 1)
    let again = try herinner(
      ["bounces", "fetch", "--json", "--config", ex.config], in: ex.path, environment: env)
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.isEmpty)

    // Past the letter's deadline: not collection, and no dossier with costs.
    let status = try herinner(
      ["status", "--config", ex.config, "--date", "2027-01-04"], in: ex.path, environment: env)
    #expect(status.stdout.contains("bounced"), "\(status.stdout)")
    let export = try herinner(
      ["export", "--config", ex.config, "--date", "2027-01-04"], in: ex.path, environment: env)
    #expect(export.status != 2, "\(export.stderr)")
    let csv =
      (try? String(
        contentsOfFile: ex.path + "/Examples/export/2027-01-04/dossiers.csv", encoding: .utf8))
      ?? ""
    #expect(!csv.contains("2026-0102"), "exported for collection: \(csv)")
    let history = try herinner(
      ["history", "--config", ex.config, "2026-0102"], in: ex.path, environment: env)
    #expect(history.stdout.contains("returned mail: hard 5.1.1"), "\(history.stdout)")
  }
}

/// `bounces fetch` against a real Dovecot: what it refuses and how it says so.
@Suite struct BouncesFetchTests {
  /// A DSN on one of our reminders; with no ledger entry it matches nothing.
  static let dsn = Array(
    """
    Date: Tue, 15 Dec 2026 03:00:00 +0100
    From: MAILER-DAEMON@mx.example.nl
    To: administratie@studiovermeer.nl
    Subject: Undelivered Mail Returned to Sender
    MIME-Version: 1.0
    Content-Type: multipart/report; report-type=delivery-status; boundary="b"

    --b
    Content-Type: message/delivery-status

    Reporting-MTA: dns; mx.example.nl

    Final-Recipient: rfc822; weg@example.nl
    Action: failed
    Status: 5.1.1

    --b--

    """.replacingOccurrences(of: "\n", with: "\r\n").utf8)

  @Test func aRefusedLoginIsExit4AndSaysSo() throws {
    let dovecot = try DovecotServer()
    let ex = try ExampleCopy()
    try ex.useMailbox(dovecot)
    let r = try herinner(
      ["bounces", "fetch", "--config", ex.config], in: ex.path,
      environment: ["HERINNER_IMAP_PASSWORD": "fout"])
    #expect(r.status == 4, "\(r.stderr)")
    #expect(r.stderr.lowercased().contains("login") || r.stderr.contains("password"))
    #expect(!r.stderr.contains("fout"))
  }

  @Test func anUntrustedCertificateIsExit4() throws {
    let dovecot = try DovecotServer()
    let ex = try ExampleCopy()
    try ex.useMailbox(dovecot, caFile: dovecot.otherCAFile)
    let r = try herinner(
      ["bounces", "fetch", "--config", ex.config], in: ex.path, environment: imapPassword)
    #expect(r.status == 4, "\(r.stderr)")
    #expect(r.stderr.lowercased().contains("certificate"), "\(r.stderr)")
  }

  @Test func anUnreadablePasswordIsExit2AndNothingIsTried() throws {
    let dovecot = try DovecotServer()
    let ex = try ExampleCopy()
    try ex.useMailbox(dovecot, passwordEnv: "HERINNER_TEST_UNSET_VARIABLE")
    let r = try herinner(["bounces", "fetch", "--config", ex.config], in: ex.path)
    #expect(r.status == 2, "\(r.stderr)")
    #expect(r.stderr.contains("HERINNER_TEST_UNSET_VARIABLE"))
  }

  @Test func anUnreachableServerIsExit4() throws {
    let dovecot = try DovecotServer()
    let ex = try ExampleCopy()
    try ex.useMailbox(dovecot)
    let port = try DovecotServer.freePort()
    var c =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ex.config)))
      as! [String: Any]
    var b = c["bounces"] as! [String: Any]
    var imap = b["imap"] as! [String: Any]
    imap["url"] = "imaps://127.0.0.1:\(port)/INBOX"
    b["imap"] = imap
    c["bounces"] = b
    try JSONSerialization.data(withJSONObject: c).write(to: URL(fileURLWithPath: ex.config))
    let r = try herinner(
      ["bounces", "fetch", "--config", ex.config], in: ex.path, environment: imapPassword)
    #expect(r.status == 4, "\(r.stderr)")
  }

  /// Without a processed folder each message is flagged `\Seen` and left; the stored cursor
  /// means a rerun reads only what arrived since.
  @Test func newMessagesOnlyAndFlaggedSeenWithoutAFolder() throws {
    let dovecot = try DovecotServer()
    let ex = try ExampleCopy()
    try ex.useMailbox(dovecot, processedFolder: nil)
    try dovecot.deliver(Self.dsn, to: "bounces", name: "1.a")
    let first = try herinner(
      ["bounces", "fetch", "--json", "--config", ex.config], in: ex.path,
      environment: imapPassword)
    #expect(first.status == 0, "not ours, so no person needed: \(first.stderr)")
    #expect(first.stdout.split(separator: "\n").count == 1)
    #expect(dovecot.files("bounces").keys.allSatisfy { $0.hasSuffix("S") })

    try dovecot.deliver(
      Self.dsn.map { $0 == UInt8(ascii: "w") ? UInt8(ascii: "v") : $0 }, to: "bounces",
      name: "2.b")
    let second = try herinner(
      ["bounces", "fetch", "--json", "--config", ex.config], in: ex.path,
      environment: imapPassword)
    #expect(second.status == 0, "\(second.stderr)")
    let lines = second.stdout.split(separator: "\n")
    #expect(lines.count == 1)
    #expect(lines.first?.contains("veg@example.nl") == true)
  }
}
