// Compiled into the HerinnerBounces module by scripts/fuzz only (never by SwiftPM). Arbitrary
// bytes may be refused with a MailFormatError but must never trap, hang or exhaust memory.
public enum FuzzBounces {
  /// Returned mail: as one message (MIME tree, header decoding, the report), and as an mbox.
  public static func mail(_ bytes: [UInt8]) {
    read(bytes)
    if Mbox.isMbox(bytes) {
      for message in Mbox.messages(bytes).prefix(16) { read(message) }
      read(Mbox.droppingFromLine(bytes))
    }
  }

  static func read(_ bytes: [UInt8]) {
    if let message = try? MailReader.message(bytes) {
      for part in message.allParts {
        _ = part.text
        for field in part.headers.fields { _ = part.headers.decoded(field.name) }
      }
      _ = BounceReader.report(message)
    }
    _ = try? BounceReader.report(bytes)
  }
}
