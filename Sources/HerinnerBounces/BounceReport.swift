import Foundation
import HerinnerCore

/// What a returned message says about the reminder it answers.
public enum BounceKind: String, Sendable, Hashable, CaseIterable, Codable {
  /// Final: not delivered, and the reporting server has stopped trying.
  case hard
  /// Delayed: not delivered yet, still being retried.
  case soft
  /// An automatic answer from the recipient's side: the reminder did arrive.
  case autoReply = "auto-reply"
  /// No delivery report (ordinary mail, a complaint, a success notice).
  case notABounce = "not-a-bounce"
}

/// One returned message, read.
public struct BounceReport: Sendable, Hashable {
  public var kind: BounceKind
  /// The RFC 3463 status code (`5.1.1`), when the report gives one.
  public var status: String?
  /// The failed recipient, lower-cased (for an auto-reply: who answered).
  public var recipient: String?
  /// The Message-ID of the message this one reports on, with angle brackets.
  public var originalMessageID: String?
  /// The `+tag`s of the addresses this report was sent to (VERP-style envelope tags).
  public var envelopeTags: [String]
  /// The report's own date (its `Date` header), in the writer's time zone.
  public var date: CalendarDate?
  /// The remote server's words, where the report quotes them.
  public var diagnostic: String?

  public init(
    kind: BounceKind, status: String? = nil, recipient: String? = nil,
    originalMessageID: String? = nil, envelopeTags: [String] = [], date: CalendarDate? = nil,
    diagnostic: String? = nil
  ) {
    self.kind = kind
    self.status = status
    self.recipient = recipient
    self.originalMessageID = originalMessageID
    self.envelopeTags = envelopeTags
    self.date = date
    self.diagnostic = diagnostic
  }
}

/// Reads delivery reports: RFC 3464 DSNs, the plain-text notices many servers send instead,
/// RFC 3834 automatic replies, and tells them from other mail. Pure.
public enum BounceReader {
  /// Reads the bytes of one message. Throws when they are not a readable message.
  public static func report(_ bytes: [UInt8]) throws(MailFormatError) -> BounceReport {
    report(try MailReader.message(bytes))
  }

  public static func report(_ message: MailPart) -> BounceReport {
    var r = classify(message)
    r.envelopeTags = envelopeTags(message)
    r.date = message.headers["Date"].flatMap(MailDate.calendarDate)
    if r.kind == .notABounce {
      r.status = nil
      r.recipient = nil
      r.originalMessageID = nil
      r.diagnostic = nil
    }
    return r
  }

  static func classify(_ m: MailPart) -> BounceReport {
    let own = ownParts(m)
    // An ARF feedback report (RFC 5965) says the message was delivered and a person complained.
    if own.contains(where: { $0.contentType == "message/feedback-report" })
      || (m.contentType == "multipart/report"
        && m.parameters["report-type"]?.lowercased() == "feedback-report")
    {
      return BounceReport(kind: .notABounce)
    }
    if let ses = SESNotification.report(own) { return ses }
    if let dsn = own.first(where: {
      $0.contentType == "message/delivery-status"
        || $0.contentType == "message/global-delivery-status"
    }), let r = DeliveryStatus.report(dsn, message: m, own: own) {
      return r
    }
    let text = PlainReport(m, own: own)
    if text.isBounce { return text.report() }
    if AutoReply.isAutoReply(m) {
      return BounceReport(
        kind: .autoReply, recipient: Addresses.first(in: m.headers.decoded("From") ?? ""),
        originalMessageID: m.headers["In-Reply-To"].flatMap(MessageIDs.first))
    }
    return BounceReport(kind: .notABounce)
  }

  /// The message and its parts, not descending into a returned original (message/rfc822).
  static func ownParts(_ m: MailPart) -> [MailPart] {
    var out = [m]
    if m.contentType == "message/rfc822" || m.contentType == "message/global" { return out }
    for p in m.parts { out += ownParts(p) }
    return out
  }

  /// The `+tag` of every address the report was delivered to: the envelope sender of the
  /// original, which is where a report goes (RFC 5321 §4.5.5).
  static func envelopeTags(_ m: MailPart) -> [String] {
    var values: [String] = []
    for name in ["X-Original-To", "Delivered-To", "Envelope-To", "To"] {
      values += m.headers.all(name)
    }
    if let original = returnedOriginalHeaders(m) { values += original.all("Return-Path") }
    var tags: [String] = []
    for v in values {
      for a in Addresses.all(in: v) {
        guard let at = a.lastIndex(of: "@") else { continue }
        let local = a[..<at]
        guard let plus = local.firstIndex(of: "+") else { continue }
        let tag = String(local[local.index(after: plus)...])
        if !tag.isEmpty && !tags.contains(tag) { tags.append(tag) }
      }
    }
    return tags
  }

  /// The headers of the returned original: the attached message, else the returned headers.
  static func returnedOriginalHeaders(_ m: MailPart) -> MailHeaders? {
    for p in m.allParts {
      if p.contentType == "message/rfc822" || p.contentType == "message/global",
        let inner = p.parts.first
      {
        return inner.headers
      }
    }
    for p in m.allParts where p.contentType == "text/rfc822-headers" {
      return MailReader.headers(p.text)
    }
    return nil
  }

  /// The original's Message-ID: from the attached message, the returned headers, or the copy
  /// quoted in the text, in that order.
  static func originalMessageID(_ m: MailPart, own: [MailPart], quoted: String?) -> String? {
    for p in own where p.contentType == "message/rfc822" || p.contentType == "message/global" {
      if let id = p.parts.first?.headers["Message-ID"].flatMap(MessageIDs.first) { return id }
      // A returned original that could not be read as a message still shows its headers.
      if let id = MessageIDs.headerLine(in: Charsets.decode(p.body, charset: nil)) { return id }
    }
    for p in own where p.contentType == "text/rfc822-headers" {
      if let id = MailReader.headers(p.text)["Message-ID"].flatMap(MessageIDs.first) { return id }
    }
    if let quoted, let id = MessageIDs.headerLine(in: quoted) { return id }
    for p in own where p.parts.isEmpty && p.contentType != "message/rfc822" {
      if let id = MessageIDs.headerLine(in: p.text) { return id }
    }
    for p in own where !p.outside.isEmpty {
      if let id = MessageIDs.headerLine(in: Charsets.decode(p.outside, charset: nil)) { return id }
    }
    return nil
  }
}

/// RFC 3464 message/delivery-status.
enum DeliveryStatus {
  struct Recipient {
    var fields: MailHeaders
    var action: String? {
      fields["Action"].map {
        $0.lowercased().split(whereSeparator: { $0 == " " || $0 == "(" }).first.map(String.init)
          ?? ""
      }
    }
  }

  /// The per-recipient groups (RFC 3464 §2.3): blank-line separated blocks that name a
  /// recipient, an action or a status.
  static func recipients(_ text: String) -> [Recipient] {
    var groups: [[String]] = [[]]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.trimmingCharacters(in: .whitespaces).isEmpty {
        if !(groups.last?.isEmpty ?? true) { groups.append([]) }
      } else {
        groups[groups.count - 1].append(String(line))
      }
    }
    var out: [Recipient] = []
    for g in groups where !g.isEmpty {
      let h = MailReader.headers(g.joined(separator: "\n"))
      if h["Final-Recipient"] != nil || h["Original-Recipient"] != nil || h["Action"] != nil
        || h["Status"] != nil
      {
        out.append(Recipient(fields: h))
      }
    }
    return out
  }

  static func report(_ part: MailPart, message m: MailPart, own: [MailPart]) -> BounceReport? {
    let all = recipients(part.text)
    guard !all.isEmpty else { return nil }
    let chosen =
      all.first { $0.action == "failed" } ?? all.first { $0.action == "delayed" } ?? all[0]
    let diagnostic = chosen.fields["Diagnostic-Code"].map(stripType)
    let status = refined(
      StatusCodes.first(in: chosen.fields["Status"] ?? ""), diagnostic: diagnostic)
    let text = PlainReport(m, own: own)
    let kind: BounceKind
    switch chosen.action {
    case "failed": kind = .hard
    case "delayed": kind = .soft
    case "delivered", "relayed", "expanded", "deliverable": kind = .notABounce
    default:
      switch status?.first {
      case "5": kind = .hard
      case "4": kind = text.isFinal ? .hard : .soft
      case "2": kind = .notABounce
      default:
        guard text.isBounce else { return nil }
        kind = text.kind
      }
    }
    var recipient: String? = nil
    for name in ["Final-Recipient", "Original-Recipient", "X-Actual-Recipient"] {
      if let v = chosen.fields[name], let a = Addresses.first(in: stripType(v)) {
        recipient = a
        break
      }
    }
    if recipient == nil {
      recipient = m.headers["X-Failed-Recipients"].flatMap(Addresses.first) ?? text.recipient
    }
    return BounceReport(
      kind: kind, status: status ?? text.status, recipient: recipient,
      originalMessageID: BounceReader.originalMessageID(m, own: own, quoted: text.quoted),
      diagnostic: diagnostic)
  }

  /// `rfc822; a@b` → `a@b`; `smtp; 550 ...` → `550 ...` (RFC 3464 §2.3.2, §2.3.6).
  static func stripType(_ v: String) -> String {
    guard let semi = v.firstIndex(of: ";") else { return v }
    return v[v.index(after: semi)...].trimmingCharacters(in: .whitespaces)
  }

  /// A `Status` of `X.0.0` says only the class; the remote server's own code in the diagnostic
  /// says more (RFC 3463 §3.1: 0 is "other or undefined").
  static func refined(_ status: String?, diagnostic: String?) -> String? {
    guard let diagnostic, let d = StatusCodes.first(in: diagnostic) else { return status }
    guard let status else { return d }
    if status.hasSuffix(".0.0") && d.first == status.first && d != status { return d }
    return status
  }
}

/// The plain-text notices of servers that send no DSN part (qmail, Exim, Gmail's old format,
/// Office 365's text NDRs, ...), read for recipient, status and finality.
struct PlainReport {
  let message: MailPart
  /// The human-readable text.
  let text: String
  /// The part of the text before the copy of the original.
  let notice: String
  /// The copy of the original, where the text has one.
  let quoted: String?
  let subject: String

  init(_ m: MailPart, own: [MailPart]) {
    message = m
    subject = (m.headers.decoded("Subject") ?? "").lowercased()
    let textParts = own.filter { $0.parts.isEmpty && $0.contentType == "text/plain" }
    var t = textParts.map(\.text).joined(separator: "\n")
    if t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      t = own.filter { $0.parts.isEmpty && $0.contentType == "text/html" }
        .map { HTML.text($0.text) }.joined(separator: "\n")
    }
    if t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, m.isMultipart {
      t = Charsets.decode(m.outside, charset: nil)
    }
    text = t
    let (n, q) = PlainReport.split(t)
    notice = n
    quoted = q
  }

  /// Lines that introduce the copy of the original in the notices servers write.
  static let markers = [
    "below this line is a copy of the message", "this is a copy of the message",
    "copy of the original message", "copy of your message", "original message follows",
    "----- original message -----", "original message headers", "header of the original message",
    "oorspronkelijke berichtkoppen", "oorspronkelijk bericht",
    "headers of the original message", "the original message headers", "original message header",
    "bounced e-mail:", "message headers follow", "undelivered message follows",
    "this report relates to a message you sent with the following header fields",
    "original message header fields", "--- original message ---", "header of original message",
    "the header of the original", "----- transcript of session follows -----",
  ]

  static func split(_ t: String) -> (String, String?) {
    let lower = t.lowercased()
    var best: String.Index? = nil
    for m in markers {
      if let r = lower.range(of: m), r.lowerBound < (best ?? lower.endIndex) {
        best = r.lowerBound
      }
    }
    guard let best else { return (t, nil) }
    // Same offsets: lower-casing ASCII markers keeps the text's length in these reports;
    // where it does not, the whole text is the notice.
    let offset = lower.distance(from: lower.startIndex, to: best)
    guard lower.count == t.count,
      let i = t.index(t.startIndex, offsetBy: offset, limitedBy: t.endIndex)
    else { return (t, nil) }
    return (String(t[..<i]), String(t[i...]))
  }

  var from: String { (message.headers.decoded("From") ?? "").lowercased() }

  var fromDaemon: Bool {
    let f = from
    return [
      "mailer-daemon", "postmaster", "mail delivery", "mailerdaemon", "mail-daemon",
      "mail administrator", "mdaemon", "mail system",
    ].contains { f.contains($0) }
  }

  static let bounceSubjects = [
    "undeliver", "undelivered", "delivery status notification", "delivery failure",
    "delivery failed", "failure notice", "returned mail", "returning message",
    "delivery notification", "nondeliverable", "non-delivery", "non delivery",
    "could not be delivered", "delivery problem", "bounce", "delayed", "delivery delay",
    "mail delivery", "delivery has failed", "message not delivered", "niet afgeleverd",
    "onbestelbaar", "unzustellbar", "delivery incomplete", "failed delivery",
    "mail system error", "warning: message", "rejected", "vertraagd", "vertraging",
  ]

  static let bouncePhrases = [
    "could not be delivered", "couldn't be delivered", "permanent error", "wasn't able to deliver",
    "was not able to deliver", "delivery to the following recipient", "undeliverable",
    "was not delivered", "delivery has failed", "failed permanently", "has not yet been delivered",
    "delivery attempts will continue", "returned to sender", "could not deliver",
    "message you sent", "rejected", "delivery failed", "unable to deliver", "not delivered",
    "permanent fatal error", "following address", "following recipient", "delivery report",
    "bezorging is mislukt", "kan niet worden bezorgd", "kon niet worden bezorgd", "niet bezorgd",
    "kon niet worden afgeleverd", "niet afgeleverd",
  ]

  var isBounce: Bool {
    if message.headers["X-Failed-Recipients"] != nil { return true }
    let body = notice.lowercased()
    let subjectSays = Self.bounceSubjects.contains { subject.contains($0) }
    let bodySays = Self.bouncePhrases.contains { body.contains($0) }
    if fromDaemon { return subjectSays || bodySays || StatusCodes.first(in: notice) != nil }
    if AutoReply.isAutoReply(message) { return false }
    return (subjectSays && bodySays) || Self.noticePhrases.contains { body.contains($0) }
  }

  /// Words only a delivery notice uses, whoever sends it.
  static let noticePhrases = [
    "could not be delivered to:", "delivery to the following recipient failed",
    "following address(es) failed", "this is a permanent error", "wasn't able to deliver your",
    "has not yet been delivered to", "permanent fatal errors",
    "bezorging is mislukt voor deze ontvangers",
  ]

  static let finalPhrases = [
    "i've given up", "i have given up", "giving up on", "not going to try again", "permanent error",
    "failed permanently", "permanent fatal", "will not try", "rejected and discarded",
    "has been returned", "returning message to sender", "gave up", "permanently",
    "undelivered mail returned", "not be delivered",
  ]

  static let delayPhrases = [
    "warning message only", "this is a warning", "will be retried", "still being retried",
    "delivery attempts will continue", "will continue to try", "not yet been delivered",
    "has been delayed", "delivery delayed", "delayed mail", "(delay)", "delay notification",
    "temporary failure", "will retry", "is delayed", "still trying", "warning: message",
    "warning: could not send", "delivery status notification (delay)",
    "will keep trying", "will try again", "vertraagd", "wordt opnieuw geprobeerd",
  ]

  var isFinal: Bool {
    let body = notice.lowercased()
    return Self.finalPhrases.contains { body.contains($0) || subject.contains($0) }
  }

  var isDelay: Bool {
    let body = notice.lowercased()
    return Self.delayPhrases.contains { body.contains($0) || subject.contains($0) }
  }

  var kind: BounceKind {
    if isFinal { return .hard }
    return isDelay ? .soft : .hard
  }

  var status: String? { StatusCodes.first(in: notice) }

  /// The failed recipient: the `X-Failed-Recipients` header, else the address the notice names
  /// first that is not the report's own sender or addressee.
  var recipient: String? {
    if let a = message.headers["X-Failed-Recipients"].flatMap(Addresses.first) { return a }
    var own: Set<String> = []
    for name in [
      "From", "To", "Delivered-To", "X-Original-To", "Envelope-To", "Reply-To", "Sender",
    ] {
      for v in message.headers.all(name) { own.formUnion(Addresses.all(in: v).map(untagged)) }
    }
    // The report goes to our (tagged) envelope sender; our plain address is ours too.
    func untagged(_ a: String) -> String {
      guard let at = a.lastIndex(of: "@"), let plus = a[..<at].firstIndex(of: "+") else {
        return a
      }
      return String(a[..<plus] + a[at...])
    }
    func usable(_ a: String) -> Bool {
      guard !own.contains(untagged(a)), let at = a.firstIndex(of: "@") else { return false }
      let local = a[..<at]
      return !["mailer-daemon", "postmaster", "mailerdaemon", "no-reply", "noreply"].contains(
        String(local))
    }
    let lines = notice.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    // A line that names only an address (qmail `<a@b>:`, Exim's indented list, GMX `"a@b":`).
    for l in lines {
      var s = Substring(l)
      if s.hasSuffix(":") { s = s.dropLast() }
      s = s.trimmingCharacters(in: CharacterSet(charactersIn: "<>\"' ")).prefix(1000)
      if !s.contains(" "), let a = Addresses.first(in: String(s)), a == s.lowercased(), usable(a) {
        return a
      }
    }
    // A line that labels it.
    let labels = [
      "original-recipient:", "final-recipient:", "target mail address:", "address:", "rcpt to:",
      "recipient:", "to:",
    ]
    for l in lines {
      let lower = l.lowercased()
      for label in labels where lower.contains(label) {
        if let r = lower.range(of: label),
          let a = Addresses.first(in: String(lower[r.upperBound...])),
          usable(a)
        {
          return a
        }
      }
    }
    let quotedFields = ["from:", "message-id:", "in-reply-to:", "references:", "received:"]
    for l in lines where !quotedFields.contains(where: l.lowercased().hasPrefix) {
      for a in Addresses.all(in: l) where usable(a) { return a }
    }
    return nil
  }

  func report() -> BounceReport {
    BounceReport(
      kind: kind, status: status, recipient: recipient,
      originalMessageID: BounceReader.originalMessageID(
        message, own: BounceReader.ownParts(message), quoted: quoted))
  }
}

/// RFC 3834 automatic responses and the vendor headers that mean the same.
enum AutoReply {
  static let subjects = [
    "automatic reply", "auto reply", "autoreply", "auto-reply", "auto response",
    "automatic response", "autoresponse", "auto-response", "out of office", "out of the office",
    "ooo:", "away from", "vacation", "on holiday", "afwezig", "afwezigheid", "automatisch antwoord",
    "automatisch bericht", "niet op kantoor", "met vakantie", "abwesen", "automatische antwort",
    "réponse automatique", "reponse automatique", "respuesta automática", "automatyczna",
    "thank you for your e-mail", "thank you for your email", "thank you for your message",
    "bedankt voor uw e-mail", "bedankt voor je e-mail", "bedankt voor uw bericht",
    "no longer in use", "not monitored", "niet meer in gebruik",
  ]

  static func isAutoReply(_ m: MailPart) -> Bool {
    let h = m.headers
    if let a = h["Auto-Submitted"]?.lowercased(), a.hasPrefix("auto-replied") { return true }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Vacation"]
    where h[name] != nil {
      return true
    }
    if h["X-Apple-Action"]?.lowercased().contains("vacation") == true { return true }
    let subject = (h.decoded("Subject") ?? "").lowercased()
    let autoSubject = subjects.contains { subject.contains($0) }
    if h["X-Auto-Response-Suppress"] != nil && h["X-MS-Exchange-Inbox-Rules-Loop"] != nil {
      return true
    }
    let precedence = h["Precedence"]?.lowercased() ?? ""
    if ["bulk", "junk", "auto_reply", "auto-reply"].contains(where: precedence.contains)
      && autoSubject
    {
      return true
    }
    if h["Auto-Submitted"]?.lowercased().hasPrefix("auto-") == true && autoSubject { return true }
    return autoSubject && (h["Return-Path"]?.contains("<>") == true)
  }
}

/// Amazon SES notifications delivered as JSON (via SNS e-mail).
enum SESNotification {
  static func report(_ own: [MailPart]) -> BounceReport? {
    for p in own where p.parts.isEmpty && p.contentType.hasPrefix("text/") {
      let t = p.text
      guard t.contains("\"notificationType\""), let open = t.firstIndex(of: "{"),
        let close = t.lastIndex(of: "}"), open < close,
        let obj = try? JSONSerialization.jsonObject(with: Data(t[open...close].utf8))
          as? [String: Any]
      else { continue }
      let type = (obj["notificationType"] as? String)?.lowercased() ?? ""
      guard type == "bounce" else { return BounceReport(kind: .notABounce) }
      let bounce = obj["bounce"] as? [String: Any] ?? [:]
      let permanent = (bounce["bounceType"] as? String)?.lowercased() != "transient"
      let recipients = bounce["bouncedRecipients"] as? [[String: Any]] ?? []
      let first = recipients.first ?? [:]
      let mail = obj["mail"] as? [String: Any] ?? [:]
      var id: String? = nil
      for h in mail["headers"] as? [[String: Any]] ?? [] {
        if (h["name"] as? String)?.lowercased() == "message-id", let v = h["value"] as? String {
          id = MessageIDs.first(v)
        }
      }
      return BounceReport(
        kind: permanent ? .hard : .soft,
        status: (first["status"] as? String).flatMap(StatusCodes.first),
        recipient: (first["emailAddress"] as? String).flatMap(Addresses.first),
        originalMessageID: id, diagnostic: first["diagnosticCode"] as? String)
    }
    return nil
  }
}

/// RFC 3463 enhanced status codes in text.
public enum StatusCodes {
  /// The first `class.subject.detail` code (class 2, 4 or 5) that stands on its own: not part
  /// of a longer dotted number such as an IP address or a version.
  public static func first(in text: String) -> String? {
    let s = Array(text.utf8)
    var i = 0
    func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    while i < s.count {
      let c = s[i]
      if (c == 0x32 || c == 0x34 || c == 0x35) && i + 1 < s.count && s[i + 1] == 0x2E
        && (i == 0 || (!isDigit(s[i - 1]) && s[i - 1] != 0x2E))
      {
        var j = i + 2
        var subject = 0
        while j < s.count && isDigit(s[j]) && subject < 4 {
          j += 1
          subject += 1
        }
        // Subjects are 0 to 7 (RFC 3463 §3.1); "2.10.1" is a version number, not a status.
        if subject == 1 && s[j - 1] <= 0x37 && j < s.count && s[j] == 0x2E {
          var k = j + 1
          var detail = 0
          while k < s.count && isDigit(s[k]) && detail < 4 {
            k += 1
            detail += 1
          }
          let longer =
            k < s.count && (isDigit(s[k]) || (s[k] == 0x2E && k + 1 < s.count && isDigit(s[k + 1])))
          if detail >= 1 && detail <= 3 && !longer {
            return String(decoding: s[i..<k], as: UTF8.self)
          }
        }
      }
      i += 1
    }
    return nil
  }
}

/// E-mail addresses in header values and text.
public enum Addresses {
  public static func first(in text: String) -> String? { all(in: text).first }

  /// Every `local@domain` in the text, lower-cased, in order.
  public static func all(in text: String) -> [String] {
    let s = Array(text.utf8)
    func isAtom(_ b: UInt8) -> Bool {
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || "!#$%&'*+-/=?^_`{|}~.".utf8.contains(b)
    }
    func isDomain(_ b: UInt8) -> Bool {
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == 0x2D || b == 0x2E || b == 0x5F
    }
    var out: [String] = []
    var i = 0
    while i < s.count {
      guard s[i] == 0x40 else {
        i += 1
        continue
      }
      var a = i
      while a > 0 && isAtom(s[a - 1]) { a -= 1 }
      var b = i + 1
      while b < s.count && isDomain(s[b]) { b += 1 }
      var local = Array(s[a..<i])
      while local.first == 0x2E || local.first == 0x27 { local.removeFirst() }
      var domain = Array(s[(i + 1)..<b])
      while let l = domain.last, l == 0x2E || l == 0x2D { domain.removeLast() }
      if !local.isEmpty && domain.contains(0x2E) && !domain.isEmpty {
        out.append(
          (String(decoding: local, as: UTF8.self) + "@" + String(decoding: domain, as: UTF8.self))
            .lowercased())
      }
      i = max(b, i + 1)
    }
    return out
  }
}

/// Message-IDs (RFC 5322 §3.6.4).
public enum MessageIDs {
  /// The first `<...>` in a field value; a bare id without brackets is taken whole.
  public static func first(_ value: String) -> String? {
    if let open = value.firstIndex(of: "<"),
      let close = value[open...].firstIndex(of: ">"), value.index(after: open) < close
    {
      return String(value[open...close]).replacingOccurrences(of: " ", with: "")
    }
    let bare = value.trimmingCharacters(in: .whitespaces)
    guard !bare.isEmpty, !bare.contains(" ") else { return nil }
    return "<" + bare + ">"
  }

  /// The first `Message-ID:` header line in a quoted header block; the value may be folded
  /// onto the next line.
  static func headerLine(in text: String) -> String? {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (n, raw) in lines.enumerated() {
      let l = raw.trimmingCharacters(in: .whitespaces)
      guard l.count > 11, l.prefix(11).lowercased() == "message-id:" else { continue }
      var v = String(l.dropFirst(11)).trimmingCharacters(in: .whitespaces)
      if v.isEmpty, n + 1 < lines.count { v = lines[n + 1].trimmingCharacters(in: .whitespaces) }
      if let id = first(v) { return id }
    }
    return nil
  }
}

enum HTML {
  /// The text of an HTML body: tags dropped, line breaks kept, common entities read.
  static func text(_ html: String) -> String {
    var out = ""
    var inTag = false
    var tag = ""
    for c in html {
      if inTag {
        if c == ">" {
          inTag = false
          let t = tag.lowercased()
          if t.hasPrefix("br") || t.hasPrefix("/p") || t.hasPrefix("/div") || t.hasPrefix("/tr")
            || t.hasPrefix("p") || t.hasPrefix("/h")
          {
            out += "\n"
          } else {
            out += " "
          }
        } else {
          tag.append(c)
        }
      } else if c == "<" {
        inTag = true
        tag = ""
      } else {
        out.append(c)
      }
    }
    return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(
      of: "&gt;", with: ">"
    )
    .replacingOccurrences(of: "&nbsp;", with: " ").replacingOccurrences(of: "&quot;", with: "\"")
    .replacingOccurrences(of: "&#43;", with: "+").replacingOccurrences(of: "&amp;", with: "&")
  }
}

/// RFC 5322 §3.3 dates.
enum MailDate {
  static let months = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
  ]

  /// The calendar date of `Thu, 29 Apr 1999 23:34:45 +0900`, as written (the writer's zone).
  static func calendarDate(_ value: String) -> CalendarDate? {
    let tokens = value.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
    for (n, t) in tokens.enumerated() {
      guard let m = months.firstIndex(of: t.prefix(3).lowercased()), t.count >= 3, n > 0,
        n + 1 < tokens.count, let d = Int(tokens[n - 1]), var y = Int(tokens[n + 1])
      else { continue }
      // Two-digit years (RFC 5322 §4.3).
      if y < 50 { y += 2000 } else if y < 1000 { y += 1900 }
      return CalendarDate(year: y, month: m + 1, day: d)
    }
    return nil
  }
}
