import HerinnerCore
import Testing

@testable import HerinnerInput

/// Inputs the fuzz targets (Fuzz/, scripts/fuzz) found to crash a reader: each is refused with a
/// message now, or read as before.
@Suite struct FuzzRegressionTests {
  /// The input libFuzzer found (camt053 target), shortened: an XML processing instruction with
  /// nothing after its target made FoundationXML read a NULL pointer (SIGSEGV, no message).
  static let foundByTheFuzzer = #"<?xm?><Do&c;um:Amt><cTF-8"?><Document xmlns="urn:iso:std"#

  @Test(arguments: [
    (foundByTheFuzzer, 1),
    ("<?xml version=\"1.0\"?>\n<?x?>\n" + camt(entry("1.00")).dropFirst(22), 2),
    (camt(entry("1.00", extra: "\n\n<?note?>")), 5),
    ("<?xml-stylesheet?>" + camt(entry("1.00")).dropFirst(22), 1),
  ])
  func anEmptyProcessingInstructionIsRefusedNotACrash(_ text: String, _ line: Int) {
    do {
      _ = try StatementFile.parse(bytes: Array(text.utf8), file: "c.xml")
      Issue.record("read a file with an empty processing instruction")
    } catch {
      #expect(error.all.count == 1)
      #expect(error.all.first?.line == line)
      #expect(error.all.first?.message.contains("empty processing instruction") == true)
      #expect(error.all.first?.message.hasSuffix("nothing imported") == true)
    }
  }

  /// A processing instruction with data is harmless, and `<?x?>` in a comment or a CDATA
  /// section is no instruction: such files still read.
  @Test(arguments: [
    "<?xml version=\"1.0\"?>\n<?bank export=\"1\"?>\n",
    "<?xml version=\"1.0\"?>\n<!-- geen <?x?> instructie -->\n",
  ])
  func otherInstructionsAndCommentsStillRead(_ prolog: String) throws {
    let cdata = "<AddtlNtryInf><![CDATA[<?x?>]]></AddtlNtryInf>"
    let text = prolog + camt(entry("1.00", extra: cdata)).dropFirst(22)
    let s = try StatementFile.parse(bytes: Array(text.utf8), file: "c.xml")
    #expect(s.transactions.map(\.amount.cents) == [100])
  }
}
