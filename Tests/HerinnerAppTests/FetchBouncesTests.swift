import Foundation
import HerinnerApp
import HerinnerCore
import Testing

/// A mailbox in memory: messages by UID, what was processed, and where to.
final class MemoryMailbox: BounceMailbox, @unchecked Sendable {
  var messages: [UInt32: [UInt8]]
  var processed: [UInt32] = []
  init(_ messages: [UInt32: [UInt8]]) { self.messages = messages }
  func newMessages(after cursor: MailboxCursor?) throws
    -> (uids: [UInt32], uidValidity: UInt32, restarted: Bool)
  {
    let after = cursor?.lastUID ?? 0
    return (messages.keys.filter { $0 > after }.sorted(), 7, false)
  }
  func message(uid: UInt32) throws -> [UInt8]? { messages[uid] }
  func markProcessed(uid: UInt32, moveTo folder: String?) throws { processed.append(uid) }
}

let dsn = Array(
  """
  From: Mail Delivery System <MAILER-DAEMON@mx.example.nl>\r
  To: administratie@studiovermeer.nl\r
  Subject: Undelivered Mail Returned to Sender\r
  Date: Tue, 1 Dec 2026 09:00:00 +0100\r
  Message-ID: <report-1@mx.example.nl>\r
  MIME-Version: 1.0\r
  Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r
  \r
  --b\r
  Content-Type: text/plain\r
  \r
  Your message could not be delivered.\r
  --b\r
  Content-Type: message/delivery-status\r
  \r
  Reporting-MTA: dns; mx.example.nl\r
  \r
  Final-Recipient: rfc822; jan@example.nl\r
  Action: failed\r
  Status: 5.1.1\r
  Diagnostic-Code: smtp; 550 5.1.1 no such user\r
  --b\r
  Content-Type: text/rfc822-headers\r
  \r
  Message-ID: <k1@studiovermeer.nl>\r
  To: jan@example.nl\r
  --b--\r

  """.utf8)

@Suite struct FetchBouncesTests {
  @Test func eachNewMessageIsRecordedMovedAsideAndNeverReadTwice() throws {
    let ledger = MemoryLedger(clock: clock)
    try ledger.begin(
      NewAttempt(
        messageKey: "k1@studiovermeer.nl", invoices: ["A-1"], step: .second, isResend: false,
        runDate: night, deadline: nil, costs: nil, recipients: ["jan@example.nl"],
        messageID: "<k1@studiovermeer.nl>", inReplyTo: nil))
    try ledger.finish([
      DeliveryResult(
        messageKey: "k1@studiovermeer.nl", state: .sent, replyCode: 250, reply: "ok",
        archivePath: nil)
    ])
    let mailbox = MemoryMailbox([3: dsn, 4: Array("no header block at all".utf8)])
    func fetch() throws -> FetchBounces.Report {
      try FetchBounces(
        mailbox: mailbox, mailboxURL: "imaps://127.0.0.1/INBOX", mailboxName: "INBOX",
        processedFolder: "INBOX/herinner", bounces: ledger,
        importer: ImportBounces(deliveries: ledger, bounces: ledger, fingerprint: contentHash)
      ).run()
    }
    let first = try fetch()
    #expect(first.lines.count == 1)
    #expect(first.unreadable.count == 1, "a message that is not mail is left for a person")
    #expect(first.needsAttention)
    #expect(mailbox.processed == [3])
    #expect(try ledger.deliveries(invoice: "A-1").map(\.state) == [.bounced])
    let again = try fetch()
    #expect(again.lines.isEmpty && again.unreadable.isEmpty, "a rerun reads nothing twice")
    #expect(mailbox.processed == [3])
  }
}
