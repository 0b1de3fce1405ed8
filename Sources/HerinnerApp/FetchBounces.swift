import HerinnerBounces
import HerinnerCore

/// The mailbox that receives the returned mail, as `bounces fetch` reads it (IMAP live).
///
/// Semantics: `newMessages` lists, in ascending order, the messages after the cursor (all of
/// them when the mailbox was renumbered, `restarted`); `message` gives a message's exact bytes
/// (nil when it is gone); `markProcessed` moves it to `folder` (created when missing) or, with
/// no folder, flags it seen.
public protocol BounceMailbox: AnyObject {
  func newMessages(after cursor: MailboxCursor?) throws
    -> (uids: [UInt32], uidValidity: UInt32, restarted: Bool)
  func message(uid: UInt32) throws -> [UInt8]?
  func markProcessed(uid: UInt32, moveTo folder: String?) throws
}

/// `bounces fetch`: the new messages of the mailbox, each read, recorded like `bounces import`
/// and then moved aside (or flagged), with the cursor saved after each so a rerun reads nothing
/// twice and a stop loses nothing.
public struct FetchBounces {
  public struct Report: Sendable {
    public var lines: [ImportBounces.Line] = []
    /// Messages that are not readable mail: left in place, unflagged, for a person.
    public var unreadable: [String] = []
    /// The server renumbered the mailbox (a new UIDVALIDITY): everything was read again.
    public var restarted = false
    /// The mailbox failed after some messages were recorded: those are reported, the rest
    /// waits for the next fetch.
    public var stoppedBy: (any Error & Sendable)?
    public var needsAttention: Bool {
      !unreadable.isEmpty || lines.contains(where: \.needsPerson) || stoppedBy != nil
    }
  }

  public let mailbox: any BounceMailbox
  /// The cursor's key and how messages are named (`INBOX UID 7`).
  public let mailboxURL: String
  public let mailboxName: String
  public let processedFolder: String?
  public let bounces: any BounceStore
  public let importer: ImportBounces

  public init(
    mailbox: any BounceMailbox, mailboxURL: String, mailboxName: String, processedFolder: String?,
    bounces: any BounceStore, importer: ImportBounces
  ) {
    self.mailbox = mailbox
    self.mailboxURL = mailboxURL
    self.mailboxName = mailboxName
    self.processedFolder = processedFolder
    self.bounces = bounces
    self.importer = importer
  }

  public func run() throws -> Report {
    var report = Report()
    let found = try mailbox.newMessages(after: try bounces.mailboxCursor(mailboxURL))
    report.restarted = found.restarted
    for uid in found.uids {
      if let bytes = try mailbox.message(uid: uid) {
        let message = ImportBounces.Message(name: "\(mailboxName) UID \(uid)", bytes: bytes)
        let read: BounceReport
        do throws(MailFormatError) {
          read = try ImportBounces.read(message)
        } catch {
          report.unreadable.append(
            "message \(uid) in the mailbox: \(error.description); left in place")
          try bounces.saveMailboxCursor(
            MailboxCursor(uidValidity: found.uidValidity, lastUID: uid), for: mailboxURL)
          continue
        }
        report.lines += try importer.record([(message, read)])
        do { try mailbox.markProcessed(uid: uid, moveTo: processedFolder) } catch {
          // Recorded, so reported; it stays in the mailbox, and reading it again changes
          // nothing (the record is keyed by the message's content).
          report.stoppedBy = error as? (any Error & Sendable) ?? AppError(.failed, "\(error)")
          return report
        }
      }
      try bounces.saveMailboxCursor(
        MailboxCursor(uidValidity: found.uidValidity, lastUID: uid), for: mailboxURL)
    }
    return report
  }
}
