import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLetters

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent()
  .deletingLastPathComponent().path

/// Parses message bytes with Python's `email` package (policy.default) and returns its report.
func pythonParse(_ messages: [[UInt8]]) throws -> [[String: Any]] {
  let dir = NSTemporaryDirectory() + "herinner-eml-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  var paths: [String] = []
  for (i, m) in messages.enumerated() {
    let p = "\(dir)/\(i).eml"
    FileManager.default.createFile(atPath: p, contents: Data(m))
    paths.append(p)
  }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = ["python3", repoRoot + "/Tests/tools/parse_eml.py"] + paths
  let out = Pipe()
  p.standardOutput = out
  try p.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  #expect(p.terminationStatus == 0, "python's email parser failed")
  return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
}

func d(_ s: String) -> CalendarDate { CalendarDate(parsing: s)! }

let sender = Sender(
  name: "Studio Vermeer B.V.", email: "administratie@studiovermeer.nl",
  replyTo: "administratie@studiovermeer.nl",
  phone: "020 123 4567", iban: "NL91ABNA0417164300", bic: "ABNANL2A", kvk: "12345678",
  btw: "NL123456789B01",
  address: ["Keizersgracht 1", "1015 AA Amsterdam"], signature: "Anna de Vries")

func sampleInvoice(
  _ number: String = "2026-0042", kind: CustomerKind = .business, amount: Int64 = 125_000,
  paid: Int64 = 0,
  customer: String = "Bakkerij De Korenschoof B.V.", contact: String? = "mevrouw Bakker",
  language: Language = .nl
) -> Invoice {
  Invoice(
    number: number, customer: customer, contact: contact, email: "klant@example.nl", kind: kind,
    issued: d("2026-10-11"), due: d("2026-11-10"), amount: Money(cents: amount),
    paid: Money(cents: paid),
    pdf: "factuur-\(number).pdf", language: language)
}

func templates() throws -> TemplateSet {
  do { return try TemplateSet.load(folder: repoRoot + "/Templates") } catch {
    Issue.record("templates: \(error)")
    throw error
  }
}

/// A deterministic builder: fixed boundaries, tokens and a fake PDF per invoice.
func builder(_ t: TemplateSet) -> MessageBuilder {
  MessageBuilder(
    templates: t, composer: MIMEComposer(boundary: { "=_test_\($0)" }),
    timeZone: TimeZone(identifier: "Europe/Amsterdam")!,
    readAttachment: { name in Array("%PDF-1.4 \(name) ".utf8) + (0..<3000).map { UInt8($0 % 256) }
    },
    uniqueToken: { "t0k3n" })
}

/// 2026-12-01 09:00 in Amsterdam.
let fixedDate = Date(timeIntervalSince1970: 1_796_112_000)
