import ArgumentParser
import CurlIMAP
import Foundation
import HerinnerApp
import HerinnerBounces
import HerinnerCore
import HerinnerInput
import HerinnerLedger

/// `herinner bounces ...`: returned mail.
struct Bounces: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bounces",
    abstract: "Reads returned mail (delivery reports, auto-replies) and ties it to the reminders.",
    subcommands: [BouncesImport.self, BouncesFetch.self])
}

/// `herinner bounces import [--json] FILE|FOLDER...`.
struct BouncesImport: HerinnerCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract:
      "Reads delivery reports from .eml files, mbox files and Maildir folders and matches each to the reminder it answers.",
    discussion: """
      Exit 1 when a hard bounce answers one of our reminders (a person is needed: phone, or send \
      by post), 2 when a file named on the command line is not a readable message.
      """)

  @OptionGroup var common: CommonOptions
  @Flag(help: "Print one JSON object per message read.") var json = false
  @Argument(help: "Files (.eml, mbox) and Maildir folders.") var paths: [String]

  struct Line: Encodable {
    var file: String
    var kind: String
    var status: String?
    var recipient: String?
    var messageId: String?
    var invoice: String?
    var step: String?

    // Every key is always present: a missing value is null.
    func encode(to encoder: any Encoder) throws {
      enum K: String, CodingKey { case file, kind, status, recipient, messageId, invoice, step }
      var c = encoder.container(keyedBy: K.self)
      try c.encode(file, forKey: .file)
      try c.encode(kind, forKey: .kind)
      try c.encode(status, forKey: .status)
      try c.encode(recipient, forKey: .recipient)
      try c.encode(messageId, forKey: .messageId)
      try c.encode(invoice, forKey: .invoice)
      try c.encode(step, forKey: .step)
    }
  }

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    // Everything is read before anything is recorded: a malformed file named on the command
    // line stops the import with nothing done.
    var read: [(message: ImportBounces.Message, report: BounceReport)] = []
    var refused = false
    var skipped = false
    for path in paths {
      let inputs: [MailInput]
      do {
        inputs = try MailInputs.read(path)
      } catch {
        Console.error("\(error)")
        refused = true
        continue
      }
      // A file named on the command line must be readable whole; a folder's unreadable
      // message is reported and skipped.
      var isFolder: ObjCBool = false
      let named =
        !(FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        && isFolder.boolValue)
      for input in inputs {
        let message = ImportBounces.Message(name: input.name, bytes: input.bytes)
        do throws(MailFormatError) {
          read.append((message, try ImportBounces.read(message)))
        } catch {
          Console.error("\(input.name): \(error.description)")
          if named { refused = true } else { skipped = true }
        }
      }
    }
    if refused {
      Console.error("nothing recorded: correct or leave out the file named above")
      return ExitStatus.invalid
    }
    // With no ledger yet no reminder was sent: nothing can be ours, and no file is created.
    let ledger: any LedgerStore & BounceStore =
      FileManager.default.fileExists(atPath: config.ledger)
      ? try openLedger(config) : MemoryLedger()
    let lines = try ImportBounces(deliveries: ledger, bounces: ledger, fingerprint: contentHash)
      .record(read)
    let needsPerson = try Self.print(lines, json: json)
    return ExitStatus.code(needsAttention: needsPerson || skipped)
  }

  /// Prints one line (or JSON object) per message on stdout and what needs a person on stderr;
  /// true when a hard bounce of ours was recorded.
  static func print(_ lines: [ImportBounces.Line], json: Bool) throws -> Bool {
    var needsPerson = false
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    for l in lines {
      let r = l.report
      if l.needsPerson, let m = l.match {
        needsPerson = true
        Console.error(
          "attention: invoice \(m.message.invoices.joined(separator: ", ")), \(m.message.step)"
            + " reminder to \(r.recipient ?? m.message.recipients.joined(separator: ", ")):"
            + " returned undelivered\(r.status.map { " (\($0))" } ?? ""): phone, or send by post")
      }
      let line = Line(
        file: l.file, kind: r.kind.rawValue, status: r.status, recipient: r.recipient,
        messageId: r.originalMessageID, invoice: l.invoice, step: l.step?.rawValue)
      if json {
        Console.out(String(decoding: try enc.encode(line), as: UTF8.self))
      } else {
        Console.out(text(line, l))
      }
    }
    return needsPerson
  }

  static func text(_ l: Line, _ recorded: ImportBounces.Line) -> String {
    var s = "\(l.file): \(l.kind)"
    if let st = l.status { s += " \(st)" }
    if let r = l.recipient { s += " \(r)" }
    if let match = recorded.match {
      s += " — invoice \(match.message.invoices.joined(separator: ", ")) \(match.message.step)"
      s += " (by \(match.rule.rawValue))"
    } else if l.kind == "hard" || l.kind == "soft" {
      s += " — no reminder of ours found for it"
    }
    switch recorded.outcome {
    case .alreadyRecorded: s += "; read before, nothing changed"
    case .bounced(let invoices):
      s += "; recorded: \(invoices.joined(separator: ", ")) bounced (phone, or send by post)"
    case .noted:
      if recorded.match != nil && l.kind == "soft" { s += "; noted (still being retried)" }
    }
    return s
  }
}

/// `herinner bounces fetch [--json]`: the same for the new messages in the IMAP mailbox.
struct BouncesFetch: HerinnerCommand {
  static let configuration = CommandConfiguration(
    commandName: "fetch",
    abstract:
      "Reads the new messages in the bounces mailbox (bounces.imap) over IMAP and records them as bounces import does.",
    discussion: """
      Each message read is moved to bounces.processedFolder (or, without one, flagged as read). \
      Exit 1 when a hard bounce answers one of our reminders, 2 when bounces.imap is missing or \
      its password cannot be read, 4 when the server cannot be reached, its certificate is not \
      trusted or it refuses the login.
      """)

  @OptionGroup var common: CommonOptions
  @Flag(help: "Print one JSON object per message read.") var json = false

  func execute() throws -> Int32 {
    let config = try common.loadConfig()
    let file = InvoiceSource.display(config.file)
    guard let imap = config.bounces?.imap else {
      throw Problems([
        Problem(
          file: file, field: "bounces.imap",
          message: "missing: bounces fetch needs the mailbox that receives the returned mail")
      ])
    }
    let password = try Self.password(imap, file: file)
    let settings = IMAPSettings(
      url: imap.url, username: imap.username, password: password, caFile: imap.caFile,
      timeoutSeconds: config.smtp.timeoutSeconds)
    let ledger = try openLedger(config)
    let report = try FetchBounces(
      mailbox: LiveMailbox(IMAPMailbox(settings: settings)), mailboxURL: imap.url,
      mailboxName: (try? settings.endpoint().mailbox) ?? imap.url,
      processedFolder: config.bounces?.processedFolder, bounces: ledger,
      importer: ImportBounces(deliveries: ledger, bounces: ledger, fingerprint: contentHash)
    ).run()
    if report.restarted {
      Console.error(
        "the mailbox was renumbered by the server (new UIDVALIDITY): every message in it is read again; reports read before change nothing"
      )
    }
    _ = try BouncesImport.print(report.lines, json: json)
    for u in report.unreadable { Console.error(u) }
    if let e = report.stoppedBy {
      for line in ExitStatus.lines(for: e) { Console.error(line) }
      Console.error("bounces fetch: stopped; what was read above is recorded, the rest waits")
      return max(ExitStatus.code(for: e), ExitStatus.attention)
    }
    return ExitStatus.code(needsAttention: report.needsAttention)
  }

  /// The IMAP password from `passwordEnv` or `passwordFile`; unreadable: a config problem.
  static func password(_ imap: BouncesConfig.IMAP, file: String) throws -> String {
    guard
      let p = try Secret.read(
        env: imap.passwordEnv, file: imap.passwordFile, section: "bounces.imap",
        what: "the mailbox password", config: file, otherwise: "nothing read")
    else {
      throw Problems([
        Problem(file: file, field: "bounces.imap", message: "give passwordEnv or passwordFile")
      ])
    }
    return p
  }
}

/// The IMAP mailbox as `FetchBounces` reads it.
final class LiveMailbox: BounceMailbox {
  let imap: IMAPMailbox
  init(_ imap: IMAPMailbox) { self.imap = imap }

  func newMessages(after cursor: MailboxCursor?) throws
    -> (uids: [UInt32], uidValidity: UInt32, restarted: Bool)
  {
    let found = try imap.newMessages(
      after: cursor.map { IMAPCursor(uidValidity: $0.uidValidity, lastUID: $0.lastUID) })
    return (found.uids, found.uidValidity, found.restarted)
  }
  func message(uid: UInt32) throws -> [UInt8]? { try imap.message(uid: uid) }
  func markProcessed(uid: UInt32, moveTo folder: String?) throws {
    try imap.markProcessed(uid: uid, moveTo: folder)
  }
}
