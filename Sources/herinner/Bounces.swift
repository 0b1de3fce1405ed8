import ArgumentParser
import Foundation
import HerinnerBounces
import HerinnerCore
import HerinnerInput
import HerinnerLedger

/// `herinner bounces ...`: returned mail.
struct Bounces: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bounces",
    abstract: "Reads returned mail (delivery reports, auto-replies) and ties it to the reminders.",
    subcommands: [BouncesImport.self])
}

/// `herinner bounces import [--json] FILE|FOLDER...`.
struct BouncesImport: ParsableCommand {
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

  func run() throws {
    let config = try common.loadConfig()
    // Everything is read before anything is reported: a malformed file named on the command
    // line stops the import with nothing done.
    var read: [(name: String, report: BounceReport)] = []
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
        do throws(MailFormatError) {
          read.append((input.name, try BounceReader.report(input.bytes)))
        } catch {
          Console.error("\(input.name): \(error.description)")
          if named { refused = true } else { skipped = true }
        }
      }
    }
    if refused { throw ExitCode(2) }

    let sent = try sentMessages(config)
    var needsPerson = false
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    for (name, r) in read {
      let isBounce = r.kind == .hard || r.kind == .soft
      let match = isBounce ? BounceMatcher.match(r, among: sent) : nil
      if r.kind == .hard, let m = match {
        needsPerson = true
        Console.error(
          "attention: invoice \(m.message.invoices.joined(separator: ", ")), \(m.message.step)"
            + " reminder to \(r.recipient ?? m.message.recipients.joined(separator: ", ")):"
            + " returned undelivered\(r.status.map { " (\($0))" } ?? ""): phone, or send by post")
      }
      let line = Line(
        file: name, kind: r.kind.rawValue, status: r.status, recipient: r.recipient,
        messageId: r.originalMessageID, invoice: match?.message.invoices.first,
        step: match?.message.step.rawValue)
      if json {
        Console.out(String(decoding: try enc.encode(line), as: UTF8.self))
      } else {
        Console.out(Self.text(line, match: match))
      }
    }
    if needsPerson || skipped { throw ExitCode(1) }
  }

  static func text(_ l: Line, match: BounceMatch?) -> String {
    var s = "\(l.file): \(l.kind)"
    if let st = l.status { s += " \(st)" }
    if let r = l.recipient { s += " \(r)" }
    if let match {
      s += " — invoice \(match.message.invoices.joined(separator: ", ")) \(match.message.step)"
      s += " (by \(match.rule.rawValue))"
    } else if l.kind == "hard" || l.kind == "soft" {
      s += " — no reminder of ours found for it"
    }
    return s
  }

  /// The messages the ledger recorded as sent (or perhaps sent), read-only; none when there is
  /// no ledger yet.
  func sentMessages(_ config: Config) throws -> [SentMessage] {
    guard FileManager.default.fileExists(atPath: config.ledger),
      let ledger = try openLedgerForReading(config)
    else { return [] }
    let rows = try ledger.deliveries()
    var byID: [String: SentMessage] = [:]
    var order: [String] = []
    // Only a message that may have reached the server can come back.
    for r in rows where r.state == .sent || r.state == .unknown {
      if var m = byID[r.messageID] {
        if !m.invoices.contains(r.invoice) { m.invoices.append(r.invoice) }
        byID[r.messageID] = m
      } else {
        order.append(r.messageID)
        byID[r.messageID] = SentMessage(
          messageID: r.messageID, invoices: [r.invoice], step: r.step,
          recipients: r.recipients.split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
          }, sent: r.runDate, envelopeTag: EnvelopeTag.make(invoice: r.invoice, step: r.step))
      }
    }
    return order.compactMap { byID[$0] }
  }
}
