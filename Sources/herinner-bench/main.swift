// Benchmarks for herinner: each prints one line `name: value unit` that Benchmarks/run reads.
// Release builds only (Benchmarks/run builds with -c release).
import CurlSMTP
import Foundation
import HerinnerCore
import HerinnerInput
import HerinnerLetters

func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func peakRSSKiB() -> Int {
  let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
  for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
  }
  return 0
}

struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

let args = CommandLine.arguments.dropFirst()
func option(_ name: String, _ fallback: Int) -> Int {
  guard let i = args.firstIndex(of: name), i + 1 < args.endIndex, let v = Int(args[i + 1]) else {
    return fallback
  }
  return v
}
func stringOption(_ name: String) -> String? {
  guard let i = args.firstIndex(of: name), i + 1 < args.endIndex else { return nil }
  return args[i + 1]
}

switch args.first {
case "engine":
  // Rule engine: invoices evaluated per second, against the bare date comparison as reference.
  let n = option("--count", 1_000_000)
  var rng = SplitMix(state: 42)
  let base = CalendarDate(year: 2026, month: 1, day: 1)!
  var invoices: [Invoice] = []
  var histories: [InvoiceHistory] = []
  invoices.reserveCapacity(n)
  for i in 0..<n {
    let due = base.adding(days: Int.random(in: 0...330, using: &rng))
    invoices.append(
      Invoice(
        number: "B-\(i)", customer: "K", email: "k@example.nl",
        kind: i % 3 == 0 ? .consumer : .business,
        issued: due.adding(days: -30), due: due,
        amount: Money(cents: Int64.random(in: 1000...500_000, using: &rng)),
        status: i % 11 == 0 ? .paid : .open, pdf: "f.pdf"))
    var h = InvoiceHistory()
    if i % 2 == 0 {
      h.deliveries.append(DeliveryRecord(step: .first, state: .sent, date: due.adding(days: 7)))
    }
    if i % 4 == 0 {
      h.deliveries.append(DeliveryRecord(step: .second, state: .sent, date: due.adding(days: 21)))
    }
    histories.append(h)
  }
  let today = CalendarDate(year: 2026, month: 12, day: 1)!
  let ladder = Ladder(policy: Policy())
  var t = now()
  var steps = 0
  for i in 0..<n
  where ladder.decision(for: invoices[i], history: histories[i], on: today).step != nil {
    steps += 1
  }
  let engine = now() - t
  t = now()
  var reference = 0
  for i in 0..<n where invoices[i].due.adding(days: 7) <= today && invoices[i].status == .open {
    reference += 1
  }
  let bare = now() - t
  print("engine_invoices_per_second: \(Int(Double(n) / engine)) (\(steps) due)")
  print("engine_reference_per_second: \(Int(Double(n) / max(bare, 1e-9))) (\(reference))")
  print("engine_seconds: \(String(format: "%.3f", engine))")

case "parse":
  // Invoice source: rows parsed per second and peak memory.
  guard let file = stringOption("--file"), let attachments = stringOption("--attachments") else {
    fatalError("--file --attachments")
  }
  let t = now()
  let load = try InvoiceSource(
    config: InvoiceSourceConfig(path: file, attachments: attachments, columns: [:])
  ).load()
  let seconds = now() - t
  print(
    "parse_rows_per_second: \(Int(Double(load.records) / seconds)) (\(load.invoices.count) valid, \(load.problems.count) problems)"
  )
  print("parse_peak_rss_kib: \(peakRSSKiB())")

case "compose":
  // Render + MIME: letters rendered and composed per second with a 100 KB PDF.
  guard let templatesFolder = stringOption("--templates") else { fatalError("--templates") }
  let n = option("--count", 2000)
  let size = option("--size", 100_000)
  let templates = try TemplateSet.load(folder: templatesFolder)
  let pdf = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }
  let builder = MessageBuilder(
    templates: templates, timeZone: TimeZone(identifier: "Europe/Amsterdam")!,
    readAttachment: { _ in pdf })
  let sender = Sender(
    name: "Studio Vermeer B.V.", email: "administratie@studiovermeer.nl", phone: "020 123 4567",
    iban: "NL91ABNA0417164300", address: ["Keizersgracht 1"])
  let letters = (0..<n).map { i in
    Letter.make(
      step: .first,
      invoices: [
        Invoice(
          number: "B\(i)", customer: "Klant \(i)", contact: "mevrouw Jansen",
          email: "k\(i)@example.nl", issued: CalendarDate(year: 2026, month: 10, day: 1)!,
          due: CalendarDate(year: 2026, month: 10, day: 31)!, amount: Money(cents: 123_456),
          pdf: "f.pdf")
      ],
      sender: sender, policy: Policy(), date: CalendarDate(year: 2026, month: 12, day: 1)!,
      firstSentOn: nil)
  }
  var t = now()
  var bytes = 0
  for l in letters { bytes += try builder.build(l, to: [l.first.email], date: Date()).bytes.count }
  let total = now() - t
  t = now()
  for l in letters { _ = try templates.render(l) }
  let render = now() - t
  let sample = try builder.build(letters[0], to: ["k@example.nl"], date: Date()).message
  t = now()
  for _ in 0..<n { _ = try MIMEComposer().compose(sample) }
  let mimeOnly = now() - t
  var noAttachment = sample
  noAttachment.attachments = []
  t = now()
  for _ in 0..<n { _ = try MIMEComposer().compose(noAttachment) }
  let mimeSmall = now() - t
  print(
    "compose_mime_share: \(Int(mimeOnly / total * 100)) % (without attachment \(Int(mimeSmall / total * 100)) %)"
  )
  print("compose_messages_per_second: \(Int(Double(n) / total)) (\(bytes / n) bytes each)")
  print("compose_render_share: \(Int(render / total * 100)) %")

case "smtp":
  // The transport alone: messages per second to a server on loopback.
  let port = option("--port", 2525)
  let count = option("--count", 1000)
  let connections = option("--connections", 1)
  let size = option("--size", 100_000)
  var body =
    "From: bench@studiovermeer.nl\r\nTo: sink@example.nl\r\nSubject: bench\r\nMessage-ID: <b@studiovermeer.nl>\r\n\r\n"
  let line = String(repeating: "x", count: 76) + "\r\n"
  while body.utf8.count < size { body += line }
  let message = Array(body.utf8)
  let settings = SMTPSettings(host: "127.0.0.1", port: port, security: .none, timeoutSeconds: 30)
  let per = count / connections
  let accepted = Counter()
  let t = now()
  DispatchQueue.concurrentPerform(iterations: connections) { _ in
    let transport = CurlSMTPTransport(settings: settings)
    for _ in 0..<per {
      if case .accepted? = try? transport.send(
        message, envelope: Envelope(from: "bench@studiovermeer.nl", recipients: ["sink@example.nl"])
      ) {
        accepted.add()
      }
    }
  }
  let seconds = now() - t
  print(
    "smtp_messages_per_second: \(Int(Double(per * connections) / seconds)) (\(accepted.value) accepted)"
  )

default:
  print(
    "usage: herinner-bench engine [--count N] | parse --file F --attachments DIR | smtp --port P [--count N] [--connections C] [--size B]"
  )
  exit(64)
}

final class Counter: @unchecked Sendable {
  private var n = 0
  private let lock = NSLock()
  func add() {
    lock.lock()
    n += 1
    lock.unlock()
  }
  var value: Int {
    lock.lock()
    defer { lock.unlock() }
    return n
  }
}
