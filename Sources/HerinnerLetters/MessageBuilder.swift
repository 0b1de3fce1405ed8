import Foundation
import HerinnerCore

/// Turns a letter into the exact bytes that go out: rendered text and HTML, headers, the PDFs.
/// Pure given its injected clock value, ID generator and attachment reader.
public struct MessageBuilder: Sendable {
  public var templates: TemplateSet
  public var composer: MIMEComposer
  public var timeZone: TimeZone
  /// Reads an attachment by its path relative to the attachments folder.
  public var readAttachment: @Sendable (String) throws -> [UInt8]
  /// A unique token for Message-IDs.
  public var uniqueToken: @Sendable () -> String

  public init(
    templates: TemplateSet, composer: MIMEComposer = MIMEComposer(), timeZone: TimeZone,
    readAttachment: @escaping @Sendable (String) throws -> [UInt8],
    uniqueToken: @escaping @Sendable () -> String = {
      // 64 random bits, 16 hex digits.
      var g = SystemRandomNumberGenerator()
      return String(g.next() as UInt64, radix: 16).leftPadded(to: 16)
    }
  ) {
    self.templates = templates
    self.composer = composer
    self.timeZone = timeZone
    self.readAttachment = readAttachment
    self.uniqueToken = uniqueToken
  }

  public struct Built: Sendable {
    public var message: OutgoingMessage
    public var rendered: RenderedLetter
    public var bytes: [UInt8]
    /// The unique token this build made (in its Message-ID): names its archive file, so that
    /// nothing has to be read back out of the Message-ID.
    public var token: String
  }

  public struct BuildError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
  }

  /// A Message-ID on the company's domain that names the step and invoices, plus a unique token.
  public func messageID(for letter: Letter) -> String {
    messageID(for: letter, token: uniqueToken())
  }

  func messageID(for letter: Letter, token: String) -> String {
    let numbers = letter.invoices.map(\.number).joined(separator: "+")
    let safe = String(
      numbers.map {
        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "+" || $0 == ".") ? $0 : "_"
      }.prefix(80))
    let date = letter.date.iso.filter { $0 != "-" }
    return
      "<herinner.\(letter.step.rawValue).\(safe).\(date).\(token)@\(letter.sender.domain)>"
  }

  public func build(
    _ letter: Letter, to recipients: [String], date: Date, messageID: String? = nil,
    inReplyTo: String? = nil, references: [String] = [], autoSubmitted: Bool = true
  ) throws -> Built {
    let rendered: RenderedLetter
    do { rendered = try templates.render(letter) } catch {
      throw BuildError(description: error.description)
    }
    var attachments: [Attachment] = []
    for inv in letter.invoices {
      do {
        attachments.append(
          Attachment(
            filename: (inv.pdf as NSString).lastPathComponent, data: try readAttachment(inv.pdf)))
      } catch {
        throw BuildError(
          description: "invoice \(inv.number): cannot read attachment \(inv.pdf): \(error)")
      }
    }
    let s = letter.sender
    let token = uniqueToken()
    let m = OutgoingMessage(
      from: MailAddress(s.email, name: s.name),
      to: recipients.map { MailAddress($0, name: letter.first.customer) },
      replyTo: s.replyTo.map { MailAddress($0, name: s.name) }, subject: rendered.subject,
      date: date,
      timeZone: timeZone, messageID: messageID ?? self.messageID(for: letter, token: token),
      inReplyTo: inReplyTo,
      references: references, autoSubmitted: autoSubmitted, text: rendered.text,
      html: rendered.html,
      attachments: attachments)
    do {
      return Built(message: m, rendered: rendered, bytes: try composer.compose(m), token: token)
    } catch {
      throw BuildError(description: "invoice \(letter.first.number): \(error.description)")
    }
  }
}
