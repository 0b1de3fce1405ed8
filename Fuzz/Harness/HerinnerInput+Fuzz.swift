// Compiled into the HerinnerInput module by scripts/fuzz only (never by SwiftPM), so that the
// fuzz targets reach the internal readers directly. Each entry takes arbitrary bytes; it may
// throw Problems (a refusal is a correct answer) but must never trap, hang or exhaust memory.
import HerinnerCore

public enum FuzzInput {
  static let noFileSystem = AttachmentCheck { _ in nil }

  /// The invoice CSV: the record reader alone, then every row through the checks, read as UTF-8
  /// and as a Windows-1252 export.
  public static func invoiceCSV(_ bytes: [UInt8]) {
    var reader = CSVReader(bytes: bytes)
    while let record = reader.next() { _ = record.unterminated }
    // The same bytes delivered a few bytes at a time: the refill path must agree.
    var offset = min(bytes.count, 7)
    var pieces = CSVReader(
      first: Array(bytes[..<offset]),
      refill: {
        guard offset < bytes.count else { return [] }
        let end = min(bytes.count, offset + 5)
        defer { offset = end }
        return Array(bytes[offset..<end])
      })
    while pieces.next() != nil {}
    for encoding in [InvoiceEncoding.utf8, .windows1252] {
      _ = try? source("invoices.csv", encoding).parse(bytes: bytes)
    }
  }

  /// The invoice JSON: the JSON parser alone, then the array through the row checks.
  public static func invoiceJSON(_ bytes: [UInt8]) {
    _ = try? JSONParser.parse(bytes)
    _ = try? source("invoices.json", .utf8).parse(bytes: bytes)
  }

  /// The config file (JSON, then every key's check).
  public static func config(_ bytes: [UInt8]) {
    _ = try? Config.parse(bytes: bytes, file: "herinner.json", folder: "/srv/admin")
  }

  /// CAMT.053 XML, straight to its reader and through the format detection.
  public static func camt053(_ bytes: [UInt8]) {
    _ = try? CAMT053.parse(bytes, file: "statement.xml")
    _ = try? StatementFile.parse(bytes: bytes, file: "statement.xml")
  }

  /// MT940 text, straight to its reader (whether or not it looks like MT940).
  public static func mt940(_ bytes: [UInt8]) {
    let text = StatementText.decode(bytes)
    _ = MT940.looksLikeMT940(text)
    _ = try? MT940.parse(text, file: "statement.sta")
  }

  /// A bank's CSV or TAB export, by its recognised layout and with configured columns.
  public static func bankCSV(_ bytes: [UInt8]) {
    let text = StatementText.decode(bytes)
    _ = try? BankCSV.parse(text, file: "statement.csv", columns: [:])
    let columns = [
      "date": "Datum", "amount": "Bedrag", "name": "Naam", "iban": "Tegenrekening",
      "description": "Omschrijving",
    ]
    _ = try? BankCSV.parse(text, file: "statement.csv", columns: columns)
  }

  /// The user's interest table (`interestRates`), then interest on it as a letter computes it.
  public static func interestRates(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let table = try? InterestRateFile.parse(text, file: "r.csv"),
      let due = CalendarDate(parsing: "2019-06-30"), let today = CalendarDate(parsing: "2026-12-02")
    else { return }
    for kind in [CustomerKind.consumer, .business] {
      _ = table.interest(principal: .euros(1_000), due: due, through: today, kind: kind)
    }
  }

  static func source(_ name: String, _ encoding: InvoiceEncoding) -> InvoiceSource {
    let config = InvoiceSourceConfig(
      path: "/nonexistent/" + name, attachments: "/nonexistent/pdf", encoding: encoding)
    return InvoiceSource(config: config, displayPath: name, attachments: noFileSystem)
  }
}
