import Foundation
import Testing

@testable import HerinnerBounces

@Suite struct MailboxTests {
  @Test func mboxSplitsAtFromLinesAndUnquotes() throws {
    let messages = Mbox.messages(try fixture("two-messages.mbox"))
    #expect(messages.count == 2)
    let first = String(decoding: messages[0], as: UTF8.self)
    #expect(first.hasPrefix("From: MAILER-DAEMON@mail.example\n"))
    #expect(first.contains("\nFrom the archive: this line was quoted.\n"))
    #expect(!first.contains(">From"))
    let second = try BounceReader.report(messages[1])
    #expect(second.kind == .notABounce)
    #expect(try BounceReader.report(messages[0]).recipient == "info@klant.example")
  }

  @Test func aFromLineInsideABodyDoesNotSplit() {
    let text = "From a@b.example Tue Dec  1 02:00:03 2026\nSubject: x\n\nFrom here on, text.\n"
    #expect(Mbox.messages(Array(text.utf8)).count == 1)
  }

  @Test func maildirReadsNewAndCurNeverTmp() throws {
    let dir = NSTemporaryDirectory() + "herinner-maildir-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for sub in ["new", "cur", "tmp"] {
      try FileManager.default.createDirectory(
        atPath: dir + "/" + sub, withIntermediateDirectories: true)
    }
    let bounce = try fixture("qmail-permanent.eml")
    let plain = try fixture("plain-mail.eml")
    _ = FileManager.default.createFile(atPath: dir + "/new/1.host", contents: Data(bounce))
    _ = FileManager.default.createFile(atPath: dir + "/cur/2.host:2,S", contents: Data(plain))
    _ = FileManager.default.createFile(atPath: dir + "/tmp/3.host", contents: Data("half".utf8))
    let inputs = try MailInputs.read(dir)
    #expect(inputs.map { ($0.name as NSString).lastPathComponent } == ["1.host", "2.host:2,S"])
  }

  @Test func anEmlWithAFromLineIsOneMessage() throws {
    let dir = NSTemporaryDirectory() + "herinner-eml-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Saved with a From_ line, and a second one further down that belongs to the text.
    let text =
      "From x@y.example Tue Dec  1 02:00:03 2026\n" + "Subject: a\n\ntext\n\n"
      + "From x@y.example Tue Dec  1 02:00:03 2026\nmore\n"
    _ = FileManager.default.createFile(atPath: dir + "/one.eml", contents: Data(text.utf8))
    _ = FileManager.default.createFile(atPath: dir + "/two.mbox", contents: Data(text.utf8))
    #expect(try MailInputs.read(dir + "/one.eml").count == 1)
    #expect(try MailInputs.read(dir + "/two.mbox").count == 2)
  }

  @Test func aMissingPathIsNamed() {
    #expect(throws: MailInputError.self) { try MailInputs.read("/nonexistent/bounces.eml") }
  }
}
