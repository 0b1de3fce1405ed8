import Foundation
import HerinnerCore

/// The `company` section: the sender every letter names.

/// SMTP settings. The password itself is never in the config: only where to find it.
public struct SMTPConfig: Sendable, Hashable {
  public enum Security: String, Sendable, CaseIterable { case starttls, tls, none }
  public var url: String
  public var host: String
  public var port: Int
  public var security: Security
  public var username: String?
  public var passwordEnv: String?
  /// Absolute path.
  public var passwordFile: String?
  /// Absolute path of an extra CA bundle.
  public var caFile: String?
  public var connections: Int
  public var timeoutSeconds: Int
  public var maxPerMinute: Int
  public var bcc: [String]
  public var maxMessageBytes: Int
  /// The envelope sender; the company's address unless set.
  public var envelopeFrom: String?
  /// Each message's envelope sender carries a `+tag` naming its delivery (VERP-style, RFC 5233
  /// subaddressing), so that a bounce without the original's headers still finds it.
  public var tagEnvelope = false

  /// Loopback hosts: the only ones plaintext (`security: none`) and credentials without TLS may go to.
  public static func isLoopback(_ host: String) -> Bool {
    let h = host.lowercased()
    return h == "localhost" || h == "::1" || h == "[::1]" || h.hasPrefix("127.")
  }
}

public struct PaymentsConfig: Sendable, Hashable {
  public var required = false
  public var maxAgeDays = 3
  /// Absolute path of a folder whose new statements `send` imports first.
  public var importFrom: String?
  /// For bank CSV exports: field (date, amount, name, iban, description, reference, direction,
  /// account, id) → the export's header.
  public var columns: [String: String] = [:]
}

/// The `bounces` section: the mailbox that receives returned mail (`bounces fetch`).
public struct BouncesConfig: Sendable, Hashable {
  public struct IMAP: Sendable, Hashable {
    /// `imaps://host[:port]/MAILBOX`.
    public var url: String
    public var username: String
    public var passwordEnv: String?
    /// Absolute path.
    public var passwordFile: String?
    /// Absolute path of an extra CA bundle.
    public var caFile: String?
  }
  public var imap: IMAP?
  /// Where a processed message is moved, named as the server names it; nil: flagged `\Seen`.
  public var processedFolder: String?
}

/// Where and how the invoices are read.
public struct InvoiceSourceConfig: Sendable, Hashable {
  /// Absolute path of the CSV or JSON file.
  public var path: String
  /// Absolute path of the attachments folder.
  public var attachments: String
  /// Field name → the header the export uses.
  public var columns: [String: String]
  /// The export's text encoding (`invoices.encoding`, default UTF-8).
  public var encoding: InvoiceEncoding

  public init(
    path: String, attachments: String, columns: [String: String] = [:],
    encoding: InvoiceEncoding = .utf8
  ) {
    self.path = path
    self.attachments = attachments
    self.columns = columns
    self.encoding = encoding
  }
}

/// The whole config file, strictly read: unknown keys and wrong types name their path.
public struct Config: Sendable {
  public var file: String
  public var folder: String
  public var company: Sender
  public var invoices: InvoiceSourceConfig
  public var templates: String
  public var ledger: String
  public var archive: String
  public var export: String
  public var timezone: TimeZone
  public var policy: Policy
  public var smtp: SMTPConfig
  public var payments: PaymentsConfig
  /// Returned mail; absent when not configured.
  public var bounces: BouncesConfig?
  /// A user-maintained statutory interest table (CSV `from;consumer;commercial`), if any.
  public var interestRatesFile: String?

  /// The lock file beside the ledger.
  public var lockFile: String { ledger + ".lock" }

  /// Today's calendar date in the configured time zone.
  public func today(now: Date = Date()) -> CalendarDate {
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = timezone
    let c = cal.dateComponents([.year, .month, .day], from: now)
    return CalendarDate(year: c.year!, month: c.month!, day: c.day!)!
  }

  /// Loads and checks the config at `path`. Throws `Problems` listing every problem found.
  public static func load(path: String) throws(Problems) -> Config {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw Problems([Problem(file: path, message: "cannot read the config file")])
    }
    return try parse(bytes: [UInt8](data), file: path, folder: url.deletingLastPathComponent().path)
  }

  static func resolve(_ p: String, in folder: String) -> String {
    if p.hasPrefix("/") { return URL(fileURLWithPath: p).standardizedFileURL.path }
    return URL(fileURLWithPath: folder).appendingPathComponent(p).standardizedFileURL.path
  }

  /// Parses config bytes; `folder` is what relative paths resolve against.
  public static func parse(bytes: [UInt8], file: String, folder: String) throws(Problems) -> Config
  {
    let root: JSONNode
    do {
      root = try JSONParser.parse(bytes)
    } catch {
      throw Problems([
        Problem(file: file, line: error.line, message: "invalid JSON: \(error.message)")
      ])
    }
    var problems: [Problem] = []
    guard var top = ObjectReader(root, file: file, path: "", problems: &problems) else {
      throw Problems(problems)
    }

    // company
    var company = Sender(name: "", email: "", iban: "")
    if var c = top.object("company", problems: &problems) {
      company.name = c.string("name", required: true) ?? ""
      company.email = c.string("email", required: true) ?? ""
      if !company.email.isEmpty && !EmailAddress.isValid(company.email) {
        c.fail("email", c.node("email"), "not a valid email address")
      }
      company.replyTo = c.string("replyTo")
      if let r = company.replyTo, !EmailAddress.isValid(r) {
        c.fail("replyTo", c.node("replyTo"), "not a valid email address")
      }
      company.phone = c.string("phone")
      company.iban = c.string("iban", required: true).map(IBAN.normalized) ?? ""
      if !company.iban.isEmpty && !IBAN.isValid(company.iban) {
        c.fail("iban", c.node("iban"), "not a valid IBAN (check digits)")
      }
      company.bic = c.string("bic")
      company.kvk = c.string("kvk")
      company.btw = c.string("btw")
      company.address = c.strings("address") ?? []
      company.signature = c.string("signature")
      company.accountHolder = c.string("accountHolder") ?? company.name
      company.website = c.string("website")
      problems += c.finish()
    } else {
      problems.append(Problem(file: file, line: 1, field: "company", message: "missing (required)"))
    }

    // invoices
    var invoices = InvoiceSourceConfig(path: "", attachments: folder, columns: [:])
    if var i = top.object("invoices", problems: &problems) {
      if let p = i.string("path", required: true) { invoices.path = resolve(p, in: folder) }
      invoices.attachments = resolve(i.string("attachments") ?? ".", in: folder)
      if let e = i.string("encoding") {
        if let enc = InvoiceEncoding(rawValue: e.lowercased()) {
          invoices.encoding = enc
        } else {
          i.fail(
            "encoding", i.node("encoding"),
            "must be "
              + InvoiceEncoding.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
              + ", found \"\(e)\"")
        }
      }
      if var cols = i.object("columns", problems: &problems) {
        for (field, node) in cols.members {
          guard InvoiceField(rawValue: field) != nil else { continue }
          if let header = cols.string(field) { invoices.columns[field] = header } else { _ = node }
        }
        problems += cols.finish().map {
          var p = $0
          if p.message == "unknown key" {
            p.message =
              "unknown invoice field (known: "
              + InvoiceField.allCases.map(\.rawValue).joined(separator: ", ") + ")"
          }
          return p
        }
      }
      problems += i.finish()
    } else {
      problems.append(
        Problem(file: file, line: 1, field: "invoices", message: "missing (required)"))
    }

    let templates = resolve(top.string("templates") ?? "Templates", in: folder)
    let ledger = resolve(top.string("ledger") ?? "herinner.sqlite", in: folder)
    let archive = resolve(top.string("archive") ?? "archive", in: folder)
    let export = resolve(top.string("export") ?? "export", in: folder)
    let interestRatesFile = top.string("interestRates").map { resolve($0, in: folder) }
    if let f = interestRatesFile, !FileManager.default.fileExists(atPath: f) {
      top.fail("interestRates", top.node("interestRates"), "file not found: \(f)")
    }

    var timezone = TimeZone(identifier: "Europe/Amsterdam")!
    if let tz = top.string("timezone") {
      if let z = TimeZone(identifier: tz) {
        timezone = z
      } else {
        top.fail("timezone", top.node("timezone"), "unknown time zone \"\(tz)\"")
      }
    }

    // policy
    var policy = Policy()
    if var p = top.object("policy", problems: &problems) {
      policy.firstReminderDaysAfterDue =
        p.int("firstReminderDaysAfterDue", in: 0...365) ?? policy.firstReminderDaysAfterDue
      policy.callDaysAfterFirst =
        p.int("callDaysAfterFirst", in: 0...365) ?? policy.callDaysAfterFirst
      policy.secondReminderDaysAfterFirst =
        p.int("secondReminderDaysAfterFirst", in: 1...365) ?? policy.secondReminderDaysAfterFirst
      policy.collectionDaysAfterSecond =
        p.int("collectionDaysAfterSecond", in: 1...365) ?? policy.collectionDaysAfterSecond
      if let m = p.money("minimumOutstanding") {
        if m.cents < 0 {
          p.fail("minimumOutstanding", p.node("minimumOutstanding"), "must not be negative")
        } else {
          policy.minimumOutstanding = m
        }
      }
      policy.businessDaysOnly = p.bool("businessDaysOnly") ?? policy.businessDaysOnly
      policy.waitForCall = p.bool("waitForCall") ?? policy.waitForCall
      policy.onePerCustomer = p.bool("onePerCustomer") ?? policy.onePerCustomer
      policy.liberationDayEveryYear =
        p.bool("liberationDayEveryYear") ?? policy.liberationDayEveryYear
      policy.firstReminderTermDays =
        p.int("firstReminderTermDays", in: 1...90) ?? policy.firstReminderTermDays
      policy.secondReminderTermDays =
        p.int("secondReminderTermDays", in: 1...90) ?? policy.secondReminderTermDays
      policy.collectionCostsIncludeVAT =
        p.bool("collectionCostsIncludeVAT") ?? policy.collectionCostsIncludeVAT
      if let c = p.string("businessCompensation") {
        if let v = BusinessCompensation(rawValue: c) {
          policy.businessCompensation = v
        } else {
          p.fail(
            "businessCompensation", p.node("businessCompensation"),
            "must be claim or waive, found \"\(c)\"")
        }
      }
      problems += p.finish()
    }

    // smtp
    var smtp = SMTPConfig(
      url: "", host: "", port: 587, security: .starttls, connections: 2, timeoutSeconds: 60,
      maxPerMinute: 0, bcc: [], maxMessageBytes: 20_000_000)
    if var s = top.object("smtp", problems: &problems) {
      if let sec = s.string("security") {
        if let v = SMTPConfig.Security(rawValue: sec) {
          smtp.security = v
        } else {
          s.fail("security", s.node("security"), "must be starttls, tls or none, found \"\(sec)\"")
        }
      }
      if let u = s.string("url", required: true) {
        smtp.url = u
        if let (scheme, host, port) = parseSMTPURL(u) {
          smtp.host = host
          if scheme == "smtps" && smtp.security != .tls {
            s.fail("security", s.node("url"), "an smtps:// URL needs security \"tls\"")
          }
          if scheme == "smtp" && smtp.security == .tls {
            s.fail("url", s.node("url"), "security \"tls\" needs an smtps:// URL")
          }
          smtp.port = port ?? (scheme == "smtps" ? 465 : 587)
          if smtp.security == .none && !SMTPConfig.isLoopback(host) {
            s.fail(
              "security", s.node("security"),
              "\"none\" (no TLS) is only allowed to a loopback address, not \(host)")
          }
        } else {
          s.fail("url", s.node("url"), "expected smtp://host[:port] or smtps://host[:port]")
        }
      }
      smtp.username = s.string("username")
      smtp.passwordEnv = s.string("passwordEnv")
      smtp.passwordFile = s.string("passwordFile").map { resolve($0, in: folder) }
      if s.members.contains(where: { $0.key == "password" }) {
        s.fail(
          "password", s.node("password"),
          "secrets never go in the config file: use passwordEnv or passwordFile")
      }
      if smtp.passwordEnv != nil && smtp.passwordFile != nil {
        s.fail("passwordFile", s.node("passwordFile"), "give passwordEnv or passwordFile, not both")
      }
      if smtp.username != nil && smtp.passwordEnv == nil && smtp.passwordFile == nil {
        s.fail("username", s.node("username"), "a username needs passwordEnv or passwordFile")
      }
      smtp.caFile = s.string("caFile").map { resolve($0, in: folder) }
      if let ca = smtp.caFile, !FileManager.default.fileExists(atPath: ca) {
        s.fail("caFile", s.node("caFile"), "file not found: \(ca)")
      }
      smtp.connections = s.int("connections", in: 1...16) ?? smtp.connections
      smtp.timeoutSeconds = s.int("timeoutSeconds", in: 1...3600) ?? smtp.timeoutSeconds
      smtp.maxPerMinute = s.int("maxPerMinute", in: 0...100_000) ?? smtp.maxPerMinute
      smtp.maxMessageBytes =
        s.int("maxMessageBytes", in: 10_000...1_000_000_000) ?? smtp.maxMessageBytes
      smtp.bcc = s.strings("bcc") ?? []
      for b in smtp.bcc where !EmailAddress.isValid(b) {
        s.fail("bcc", s.node("bcc"), "not a valid email address: \(b)")
      }
      smtp.envelopeFrom = s.string("envelopeFrom")
      if let e = smtp.envelopeFrom, !EmailAddress.isValid(e) {
        s.fail("envelopeFrom", s.node("envelopeFrom"), "not a valid email address: \(e)")
      }
      smtp.tagEnvelope = s.bool("tagEnvelope") ?? false
      problems += s.finish()
    } else {
      problems.append(Problem(file: file, line: 1, field: "smtp", message: "missing (required)"))
    }

    var payments = PaymentsConfig()
    if var p = top.object("payments", problems: &problems) {
      payments.required = p.bool("required") ?? false
      payments.maxAgeDays = p.int("maxAgeDays", in: 0...365) ?? 3
      payments.importFrom = p.string("importFrom").map { resolve($0, in: folder) }
      if var cols = p.object("columns", problems: &problems) {
        let known = [
          "date", "amount", "name", "iban", "description", "reference", "direction", "account",
          "id",
        ]
        for (field, _) in cols.members where known.contains(field) {
          if let header = cols.string(field) { payments.columns[field] = header }
        }
        problems += cols.finish().map {
          var p = $0
          if p.message == "unknown key" {
            p.message = "unknown statement field (known: \(known.joined(separator: ", ")))"
          }
          return p
        }
      }
      problems += p.finish()
    }

    // bounces
    var bounces: BouncesConfig?
    if var b = top.object("bounces", problems: &problems) {
      var section = BouncesConfig()
      if var i = b.object("imap", problems: &problems) {
        let url = i.string("url", required: true)
        // Returned mail is read over TLS only, as the reminders are sent.
        if let u = url, !u.lowercased().hasPrefix("imaps://") {
          i.fail("url", i.node("url"), "expected imaps://host[:port]/MAILBOX (IMAP over TLS)")
        }
        let username = i.string("username", required: true)
        let env = i.string("passwordEnv")
        let pwFile = i.string("passwordFile").map { resolve($0, in: folder) }
        if i.members.contains(where: { $0.key == "password" }) {
          i.fail(
            "password", i.node("password"),
            "secrets never go in the config file: use passwordEnv or passwordFile")
        }
        if env != nil && pwFile != nil {
          i.fail(
            "passwordFile", i.node("passwordFile"), "give passwordEnv or passwordFile, not both")
        } else if env == nil && pwFile == nil {
          i.fail("passwordEnv", nil, "missing: give passwordEnv or passwordFile")
        }
        let ca = i.string("caFile").map { resolve($0, in: folder) }
        if let ca, !FileManager.default.fileExists(atPath: ca) {
          i.fail("caFile", i.node("caFile"), "file not found: \(ca)")
        }
        if let url, let username {
          section.imap = BouncesConfig.IMAP(
            url: url, username: username, passwordEnv: env, passwordFile: pwFile, caFile: ca)
        }
        problems += i.finish()
      }
      section.processedFolder = b.string("processedFolder")
      if let f = section.processedFolder, f.trimmingSpaces.isEmpty {
        b.fail("processedFolder", b.node("processedFolder"), "must not be empty")
      }
      problems += b.finish()
      bounces = section
    }

    problems += top.finish()
    if !problems.isEmpty {
      throw Problems(problems.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
    }
    return Config(
      file: file, folder: folder, company: company, invoices: invoices, templates: templates,
      ledger: ledger, archive: archive, export: export, timezone: timezone, policy: policy,
      smtp: smtp, payments: payments, bounces: bounces, interestRatesFile: interestRatesFile)
  }

  /// (scheme, host, port) of `smtp://host:port/…` or `smtps://…`.
  static func parseSMTPURL(_ url: String) -> (String, String, Int?)? {
    guard let r = url.range(of: "://") else { return nil }
    let scheme = url[..<r.lowerBound].lowercased()
    guard scheme == "smtp" || scheme == "smtps" else { return nil }
    var rest = url[r.upperBound...]
    if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
    guard !rest.isEmpty, !rest.contains("@") else { return nil }
    var host = String(rest)
    var port: Int? = nil
    if host.hasPrefix("[") {
      guard let close = host.firstIndex(of: "]") else { return nil }
      let after = host[host.index(after: close)...]
      if after.hasPrefix(":") {
        guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
        port = p
      }
      host = String(host[...close])
    } else if let colon = host.lastIndex(of: ":") {
      guard let p = Int(host[host.index(after: colon)...]), (1...65535).contains(p) else {
        return nil
      }
      port = p
      host = String(host[..<colon])
    }
    guard !host.isEmpty else { return nil }
    return (scheme, host, port)
  }
}
