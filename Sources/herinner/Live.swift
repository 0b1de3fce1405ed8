import CurlSMTP
import Foundation
import HerinnerApp
import HerinnerCore
import HerinnerFiles
import HerinnerInput
import HerinnerLedger

/// The one place where the live adapters are built from the config: the SQLite ledger, the
/// flock run lock, the archive and attachments on disk, the SMTP transport, the system clock.
struct Live {
  let config: Config
  let clock = WallClock.system

  /// The ports of a run that writes (`send`, `resend`): the ledger is created if missing.
  func writingPorts(progress: ((Int, Int) -> Void)? = nil) throws -> NightlySend.Ports {
    // Read the password before anything is locked or opened: a login that cannot happen must
    // not turn the night into refusals.
    let password = try smtpPassword()
    let ledger = try openLedger(config)
    return NightlySend.Ports(
      ledger: ledger, payments: SQLitePayments(ledger: ledger),
      inbox: config.payments.importFrom.map { FolderInbox(config: config, ledger: ledger, folder: $0) },
      lock: FlockRunLock(path: config.lockFile, clock: clock),
      archive: .live(root: config.archive),
      attachments: .live(folder: config.invoices.attachments), clock: clock,
      transports: { count in try openTransports(count: count, password: password) },
      progress: progress)
  }

  /// The ports of a run that only reads (dry runs, reports): no file is created; without a
  /// ledger yet, an empty one in memory.
  func readingPorts() throws -> NightlySend.Ports {
    let attachments = Attachments.live(folder: config.invoices.attachments)
    guard let ledger = try openLedgerForReading(config) else {
      return NightlySend.Ports(
        ledger: MemoryLedger(clock: clock), payments: NoPayments(), attachments: attachments,
        clock: clock)
    }
    return NightlySend.Ports(
      ledger: ledger, payments: SQLitePayments(ledger: ledger), attachments: attachments,
      clock: clock)
  }

  /// The SMTP password from `passwordEnv` or `passwordFile`. A login is configured but its
  /// password cannot be read: a config problem (exit 2) before anything is opened.
  func smtpPassword() throws -> String? {
    let file = InvoiceSource.display(config.file)
    if let env = config.smtp.passwordEnv {
      guard let v = ProcessInfo.processInfo.environment[env], !v.isEmpty else {
        throw Problems([
          Problem(
            file: file, field: "smtp.passwordEnv",
            message:
              "the environment variable \(env) is not set (or empty): set it to the SMTP password; nothing sent"
          )
        ])
      }
      return v
    }
    if let path = config.smtp.passwordFile {
      guard let data = FileManager.default.contents(atPath: path) else {
        throw Problems([
          Problem(
            file: file, field: "smtp.passwordFile",
            message: "cannot read \(path): check that it exists and is readable; nothing sent")
        ])
      }
      return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
    return nil
  }

  func smtpSettings(password: String?) -> SMTPSettings {
    let security: SMTPSettings.Security
    switch config.smtp.security {
    case .starttls: security = .starttls
    case .tls: security = .tls
    case .none: security = .none
    }
    let host =
      config.smtp.host.hasPrefix("[")
      ? String(config.smtp.host.dropFirst().dropLast()) : config.smtp.host
    return SMTPSettings(
      host: host, port: config.smtp.port, security: security,
      username: password == nil ? nil : config.smtp.username, password: password,
      caFile: config.smtp.caFile, timeoutSeconds: config.smtp.timeoutSeconds,
      heloName: config.company.domain)
  }

  /// Opens up to `count` connections. The first must open (else nothing is sent: exit 4); one
  /// that a server refuses beyond it (a server that allows one session per client) is left out.
  func openTransports(count: Int, password: String?) throws -> [any MailTransport] {
    let settings = smtpSettings(password: password)
    let first = CurlSMTPTransport(settings: settings)
    try first.verifyConnection()
    var open: [any MailTransport] = [first]
    for _ in 1..<max(1, count) {
      let t = CurlSMTPTransport(settings: settings)
      do throws(TransportError) {
        try t.verifyConnection()
        open.append(t)
      } catch {
        Console.error(
          "SMTP \(config.smtp.host):\(config.smtp.port): a further connection could not be opened (\(error.message)); going on with \(open.count)"
        )
        break
      }
    }
    return open
  }
}

/// The bank payments as the SQLite ledger holds them.
final class SQLitePayments: PaymentsView {
  let ledger: SQLiteLedger
  init(ledger: SQLiteLedger) { self.ledger = ledger }

  func latestStatementDate() throws -> CalendarDate? { try ledger.latestStatementDate() }

  func applied(_ invoices: [Invoice], histories: inout [String: InvoiceHistory]) throws
    -> [Invoice]
  {
    try PaymentState.load(ledger, invoices: invoices).applied(invoices, &histories)
  }

  func appliedPayments() throws -> [String: [String]] {
    var applied: [String: [String]] = [:]
    for p in try ledger.payments() {
      for (invoice, cents) in p.invoices.sorted(by: { $0.key < $1.key }) {
        applied[invoice, default: []].append(
          "\(p.bookingDate) \(Money(cents: cents, currency: p.amount.currency).dutch) (\(p.rule ?? "bank"))"
        )
      }
    }
    return applied
  }
}

/// `payments.importFrom`: the statement files in a folder that were not imported yet.
final class FolderInbox: StatementInbox {
  let config: Config
  let ledger: SQLiteLedger
  let folder: String
  init(config: Config, ledger: SQLiteLedger, folder: String) {
    self.config = config
    self.ledger = ledger
    self.folder = folder
  }

  func importNew(invoices: [Invoice]) throws -> (lines: [String], refused: Bool) {
    var files: [String] = []
    for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
      let f = (folder as NSString).appendingPathComponent(name)
      var dir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: f, isDirectory: &dir), !dir.boolValue,
        let data = FileManager.default.contents(atPath: f)
      else { continue }
      if try !ledger.statementImported(fileHash: contentHash([UInt8](data))) { files.append(f) }
    }
    guard !files.isEmpty else { return ([], false) }
    let (lines, failed) = importStatements(
      files, config: config, ledger: ledger, invoices: invoices)
    return (lines, failed)
  }
}
