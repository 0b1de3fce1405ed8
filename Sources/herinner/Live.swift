import CurlSMTP
import Foundation
import HerinnerApp
import HerinnerBatch
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
    let settings = smtpSettings(password: password)
    return NightlySend.Ports(
      ledger: ledger, payments: LedgerPayments(store: ledger),
      inbox: config.payments.importFrom.map {
        StatementFolder(folder: $0, store: ledger, csvColumns: config.payments.columns)
      },
      lock: FlockRunLock(path: config.lockFile, clock: clock),
      archive: .live(root: config.archive),
      attachments: .live(folder: config.invoices.attachments), clock: clock,
      connection: { _ throws(TransportError) in
        let t = CurlSMTPTransport(settings: settings)
        try t.verify()
        return t
      },
      journal: JournalFile(path: config.ledger + ".journal"), bootID: BootID.current(),
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
      ledger: ledger, payments: LedgerPayments(store: ledger), attachments: attachments,
      clock: clock)
  }

  /// The SMTP password from `passwordEnv` or `passwordFile`. A login is configured but its
  /// password cannot be read: a config problem (exit 2) before anything is opened.
  func smtpPassword() throws -> String? {
    try Secret.read(
      env: config.smtp.passwordEnv, file: config.smtp.passwordFile, section: "smtp",
      what: "the SMTP password", config: config.file, otherwise: "nothing sent")
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


}

/// A password the config names by place (an environment variable or a file), never by value.
enum Secret {
  /// Nil when neither place is configured; a named place that cannot be read is a config
  /// problem naming the key.
  static func read(
    env: String?, file: String?, section: String, what: String, config: String, otherwise: String
  ) throws -> String? {
    let shown = InvoiceSource.display(config)
    if let env {
      guard let v = ProcessInfo.processInfo.environment[env], !v.isEmpty else {
        throw Problems([
          Problem(
            file: shown, field: "\(section).passwordEnv",
            message:
              "the environment variable \(env) is not set (or empty): set it to \(what); \(otherwise)"
          )
        ])
      }
      return v
    }
    if let file {
      guard let data = FileManager.default.contents(atPath: file) else {
        throw Problems([
          Problem(
            file: shown, field: "\(section).passwordFile",
            message: "cannot read \(file): check that it exists and is readable; \(otherwise)")
        ])
      }
      return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
    return nil
  }
}
