import CurlIMAP
import HerinnerTestSupport
import Foundation
import Testing

/// Small returned-mail messages, each with a trait that a careless IMAP reader gets wrong.
enum Sample {
  static func crlf(_ s: String) -> [UInt8] {
    Array(s.replacingOccurrences(of: "\n", with: "\r\n").utf8)
  }

  /// A delivery status notification (RFC 3464) with lines that look like IMAP responses.
  static let dsn = crlf(
    """
    From: Mail Delivery System <MAILER-DAEMON@mx.example.nl>
    To: herinner+r42@studiovermeer.nl
    Subject: Undelivered Mail Returned to Sender
    Message-ID: <dsn-1@mx.example.nl>
    MIME-Version: 1.0
    Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

    --b1
    Content-Type: text/plain

    * 5 EXISTS
    + a line that looks like a continuation
    A001 OK a line that looks like a completion
    --b1
    Content-Type: message/delivery-status

    Reporting-MTA: dns; mx.example.nl
    Final-Recipient: rfc822; jan@example.nl
    Action: failed
    Status: 5.1.1
    --b1--

    """)

  /// An out-of-office reply with 8-bit text (UTF-8 and one Latin-1 byte) and no final newline.
  static let autoReply: [UInt8] =
    crlf(
      """
      From: jan@example.nl
      Subject: Afwezig: Betalingsherinnering
      Auto-Submitted: auto-replied

      Ik ben afwezig tot maandag. Groet, Jos\u{00E9}
      """) + [0x20, 0xE9]

  /// A bounce with a 20,000-character line (a quoted original whose HTML has no line breaks):
  /// libcurl cuts lines longer than half its receive buffer unless the buffer is large.
  static let longLine =
    crlf(
      """
      From: postmaster@example.nl
      Subject: Delivery Status Notification (Failure)

      <html>
      """) + Array(repeating: UInt8(ascii: "x"), count: 20_000) + crlf("\n</html>\n")

  /// A quoted IMAP session log: lines that start like libcurl's own command tags (A001 ...),
  /// one of which ends libcurl's reading of a custom command's answer early.
  static let tagLines: [UInt8] = crlf(
    "From: postmaster@example.nl\nSubject: Returned mail: see transcript\n\n"
      + (1...60).map { String(format: "A%03d OK logged line %d\n", $0, $0) }.joined())
}

func settings(_ server: DovecotServer, password: String = "geheim", ca: String? = nil)
  -> IMAPSettings
{
  IMAPSettings(
    url: server.url, username: "bounces", password: password, caFile: ca ?? server.caFile,
    timeoutSeconds: 20)
}

/// The client against a real Dovecot. Serialized: each test starts its own server, and the
/// machine has two cores.
@Suite(.serialized) struct DovecotTests {
  @Test func readsOnlyNewMessagesByteForByteAndARerunReadsNothing() throws {
    let server = try DovecotServer()
    try server.deliver(Sample.dsn, to: "bounces", name: "1.m1")
    let first = IMAPMailbox(settings: settings(server))
    let opened = try first.open()
    #expect(opened.exists == 1)
    let round1 = try first.newMessages(after: nil)
    #expect(round1.uids.count == 1)
    let uid1 = try #require(round1.uids.first)
    #expect(try first.message(uid: uid1) == Sample.dsn)
    let cursor = round1.cursor(after: uid1)

    // Two more arrive while the session is open; the cursor lists only them.
    try server.deliver(Sample.autoReply, to: "bounces", name: "2.m2")
    try server.deliver(Sample.longLine, to: "bounces", name: "3.m3")
    #expect(try first.newMessages(after: cursor).uids.count == 2)
    let second = IMAPMailbox(settings: settings(server))
    let round2 = try second.newMessages(after: cursor)
    #expect(round2.uids.count == 2)
    #expect(round2.uids.allSatisfy { $0 > uid1 })
    #expect(!round2.restarted)
    let bodies = try round2.uids.map { try second.message(uid: $0) }
    #expect(bodies == [Sample.autoReply, Sample.longLine])
    // Read with BODY.PEEK[] (the long line included: no fallback to libcurl's own FETCH).
    #expect(server.files("bounces").keys.allSatisfy { !$0.hasSuffix("S") })
    let last = try #require(round2.uids.last)

    // A rerun from the stored cursor reads nothing, although the messages are still there
    // (no folder given: only flagged).
    for uid in round2.uids { try second.markProcessed(uid: uid, moveTo: nil) }
    let third = IMAPMailbox(settings: settings(server))
    let round3 = try third.newMessages(after: round2.cursor(after: last))
    #expect(round3.uids.isEmpty)
    #expect(try third.open().exists == 3)
  }

  @Test func aMessageWithLinesLikeCommandTagsIsStillReadExactly() throws {
    let server = try DovecotServer()
    try server.deliver(Sample.tagLines, to: "bounces", name: "1.tags")
    try server.deliver(Sample.dsn, to: "bounces", name: "2.dsn")
    let mailbox = IMAPMailbox(settings: settings(server))
    let uids = try mailbox.newMessages(after: nil).uids
    #expect(uids.count == 2)
    #expect(try mailbox.message(uid: uids[0]) == Sample.tagLines)
    // The session goes on: the next message and the next command work.
    #expect(try mailbox.message(uid: uids[1]) == Sample.dsn)
    try mailbox.markProcessed(uid: uids[1], moveTo: "INBOX/herinner")
    #expect(Array(server.files("bounces", folder: "INBOX/herinner").values) == [Sample.dsn])
    // libcurl's own FETCH read the first one, which marks it read (BODY[], not BODY.PEEK[]).
    #expect(server.files("bounces").keys.sorted() == ["1.tags:2,S"])
  }

  /// The server ends the session between two commands: the next one reconnects, selects the
  /// mailbox again and goes on.
  @Test func aSessionTheServerClosedIsOpenedAgain() throws {
    let server = try DovecotServer()
    try server.deliver(Sample.dsn, to: "bounces", name: "1.m1")
    try server.deliver(Sample.autoReply, to: "bounces", name: "2.m2")
    let mailbox = IMAPMailbox(settings: settings(server))
    let uids = try mailbox.newMessages(after: nil).uids
    #expect(try mailbox.message(uid: uids[0]) == Sample.dsn)
    try server.kick("bounces")
    #expect(try mailbox.message(uid: uids[1]) == Sample.autoReply)
    try server.kick("bounces")
    try mailbox.markProcessed(uid: uids[1], moveTo: nil)
    #expect(server.files("bounces").keys.sorted() == ["1.m1:2,", "2.m2:2,S"])
  }

  @Test func aMessageStoredWithBareLineFeedsArrivesInIMAPsCRLFForm() throws {
    let server = try DovecotServer()
    let stored = Array("From: a@example.nl\nSubject: lf\n\nline one\nline two\n".utf8)
    try server.deliver(stored, to: "bounces", name: "1.lf")
    let mailbox = IMAPMailbox(settings: settings(server))
    let uid = try #require(try mailbox.newMessages(after: nil).uids.first)
    #expect(try mailbox.message(uid: uid) == Sample.crlf(String(decoding: stored, as: UTF8.self)))
  }

  /// A plain name, and one with a space and a non-ASCII letter (sent quoted, in modified UTF-7,
  /// which is also how Dovecot names its directory).
  @Test(arguments: [
    ("INBOX/herinner", "INBOX%2Fherinner"), ("INBOX/Verwerkt ä", "INBOX/Verwerkt%20%C3%A4"),
  ])
  func aProcessedMessageMovesToAFolderThatDidNotExist(folder: String, inURL: String) throws {
    let server = try DovecotServer()
    try server.deliver(Sample.dsn, to: "bounces", name: "1.m1")
    try server.deliver(Sample.autoReply, to: "bounces", name: "2.m2")
    let onDisk = IMAPName.modifiedUTF7(folder)
    #expect(!FileManager.default.fileExists(atPath: server.maildir("bounces", folder: onDisk)))
    let mailbox = IMAPMailbox(settings: settings(server))
    #expect(mailbox.capabilities.isEmpty)
    let found = try mailbox.newMessages(after: nil)
    #expect(mailbox.capabilities.contains("MOVE"))
    for uid in found.uids { try mailbox.markProcessed(uid: uid, moveTo: folder) }

    #expect(server.files("bounces").isEmpty)
    let moved = server.files("bounces", folder: onDisk)
    #expect(Set(moved.values) == [Sample.dsn, Sample.autoReply])
    // Read again through IMAP: the folder is a mailbox of its own now, and the inbox is empty.
    var folderSettings = settings(server)
    folderSettings.url = "imaps://127.0.0.1:\(server.port)/\(inURL)"
    #expect(try IMAPMailbox(settings: folderSettings).open().exists == 2)
    #expect(try IMAPMailbox(settings: settings(server)).open().exists == 0)
  }

  /// Servers without MOVE (RFC 6851): COPY, \Deleted, then UID EXPUNGE (with UIDPLUS) or
  /// EXPUNGE. Dovecot is told to announce less than it can.
  @Test(arguments: ["IMAP4rev1 LITERAL+ UIDPLUS", "IMAP4rev1 LITERAL+"])
  func withoutMoveTheMessageIsCopiedAndExpunged(capabilities: String) throws {
    let server = try DovecotServer(capabilities: capabilities)
    try server.deliver(Sample.dsn, to: "bounces", name: "1.m1")
    try server.deliver(Sample.autoReply, to: "bounces", name: "2.m2")
    let mailbox = IMAPMailbox(settings: settings(server))
    let found = try mailbox.newMessages(after: nil)
    #expect(!mailbox.capabilities.contains("MOVE"))
    #expect(mailbox.capabilities.contains("UIDPLUS") == capabilities.contains("UIDPLUS"))
    try mailbox.markProcessed(uid: try #require(found.uids.first), moveTo: "INBOX/herinner")

    #expect(Array(server.files("bounces").values) == [Sample.autoReply])
    #expect(Array(server.files("bounces", folder: "INBOX/herinner").values) == [Sample.dsn])
  }

  @Test func withoutAFolderTheMessageIsFlaggedSeenAndLeftInPlace() throws {
    let server = try DovecotServer()
    try server.deliver(Sample.dsn, to: "bounces", name: "1.m1")
    try server.deliver(Sample.autoReply, to: "bounces", name: "2.m2")
    let mailbox = IMAPMailbox(settings: settings(server))
    let found = try mailbox.newMessages(after: nil)
    // Reading alone sets no flag (BODY.PEEK[]).
    for uid in found.uids { _ = try mailbox.message(uid: uid) }
    #expect(server.files("bounces").keys.allSatisfy { !$0.hasSuffix("S") })
    // Moving into the mailbox that is read would bring the message back as new, every run.
    let error = try #require(throws: IMAPError.self) {
      try mailbox.markProcessed(uid: try #require(found.uids.first), moveTo: "inbox")
    }
    #expect(error.code == .settings)
    try mailbox.markProcessed(uid: try #require(found.uids.first), moveTo: nil)

    // Maildir keeps the flags in the file name (":2,S" is \Seen).
    let files = server.files("bounces")
    #expect(files.count == 2)
    #expect(files.keys.sorted() == ["1.m1:2,S", "2.m2:2,"])
    #expect(files["1.m1:2,S"] == Sample.dsn)
  }

  @Test func aChangedUIDValidityReadsTheMailboxAgain() throws {
    let server = try DovecotServer()
    try server.deliver(Sample.dsn, to: "bounces", name: "1.m1")
    try server.deliver(Sample.autoReply, to: "bounces", name: "2.m2")
    let mailbox = IMAPMailbox(settings: settings(server))
    let status = try mailbox.open()
    let stale = IMAPCursor(uidValidity: status.uidValidity &+ 1, lastUID: 2)
    let found = try mailbox.newMessages(after: stale)
    #expect(found.restarted)
    #expect(found.uids.count == 2)
    #expect(found.uidValidity == status.uidValidity)
  }

  @Test func aWrongPasswordIsALoginErrorThatNeverShowsThePassword() throws {
    let server = try DovecotServer()
    let password = "fout-wachtwoord-81"
    let mailbox = IMAPMailbox(settings: settings(server, password: password))
    let error = try #require(throws: IMAPError.self) { try mailbox.open() }
    #expect(error.code == .login)
    #expect(error.cause?.curlCode == "CURLE_LOGIN_DENIED")
    #expect(error.message.contains("bounces"))
    #expect(!error.description.contains(password))
    #expect(!mailbox.settings.description.contains(password))
  }

  @Test func aCertificateFromAnUnknownCAIsATLSError() throws {
    let server = try DovecotServer()
    let mailbox = IMAPMailbox(settings: settings(server, ca: server.otherCAFile))
    let error = try #require(throws: IMAPError.self) { try mailbox.open() }
    #expect(error.code == .tls)
    #expect(error.cause?.curlCode == "CURLE_PEER_FAILED_VERIFICATION")
  }

  @Test func anUnknownMailboxIsAMailboxErrorNotALoginError() throws {
    let server = try DovecotServer()
    var s = settings(server)
    s.url = "imaps://127.0.0.1:\(server.port)/Bounces"
    let error = try #require(throws: IMAPError.self) { try IMAPMailbox(settings: s).open() }
    #expect(error.code == .mailbox)
    #expect(error.message.contains("Bounces"))
    #expect(error.cause?.serverReply?.hasPrefix("NO") == true)
  }

  @Test func aPortNobodyListensOnIsUnreachable() throws {
    let port = try DovecotServer.freePort()
    let s = IMAPSettings(
      url: "imaps://127.0.0.1:\(port)/INBOX", username: "bounces", password: "x",
      timeoutSeconds: 5)
    let error = try #require(throws: IMAPError.self) { try IMAPMailbox(settings: s).open() }
    #expect(error.code == .unreachable)
    #expect(error.cause?.curlCode == "CURLE_COULDNT_CONNECT")
  }

  /// Something listens but never answers (the TLS handshake never comes): the timeout ends it.
  @Test func aServerThatNeverAnswersIsUnreachableAfterTheTimeout() throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let listening = withUnsafeMutablePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &len) == 0
      }
    }
    try #require(listening)
    let port = Int(UInt16(bigEndian: addr.sin_port))
    let s = IMAPSettings(
      url: "imaps://127.0.0.1:\(port)/INBOX", username: "bounces", password: "x",
      timeoutSeconds: 1)
    let error = try #require(throws: IMAPError.self) { try IMAPMailbox(settings: s).open() }
    #expect(error.code == .unreachable)
    #expect(error.cause?.curlCode == "CURLE_OPERATION_TIMEDOUT")
  }

  /// A folder the server cannot create is a mailbox error that names the server's delimiter.
  @Test func aFolderNamedWithTheWrongDelimiterIsRefusedWithAHint() throws {
    let server = try DovecotServer(separator: ".")
    try server.deliver(Sample.dsn, to: "bounces", name: "1.m1")
    let mailbox = IMAPMailbox(settings: settings(server))
    let uid = try #require(try mailbox.newMessages(after: nil).uids.first)
    let error = try #require(throws: IMAPError.self) {
      try mailbox.markProcessed(uid: uid, moveTo: "INBOX/herinner")
    }
    #expect(error.code == .mailbox)
    #expect(error.message.contains("separates folders with \".\""))
    // Named as this server names it, the folder is created and the message moves.
    try mailbox.markProcessed(uid: uid, moveTo: "INBOX.herinner")
    #expect(Array(server.files("bounces", folder: "INBOX.herinner").values) == [Sample.dsn])
  }
}
