import Foundation
import HerinnerCore

/// The fields of an invoice record (CONTRACT.md "Invoice source").
public enum InvoiceField: String, CaseIterable, Sendable {
  case number
  case customerID = "customer_id"
  case customer, contact, email, kind, issued, due, amount, paid, currency, status, pdf, language,
    phone, reference

  public static let required: [InvoiceField] = [
    .number, .customer, .email, .issued, .due, .amount, .pdf,
  ]

  /// The field's place in a row (rows are arrays, not dictionaries: hashing field names was a
  /// fifth of the parse, Benchmarks/RESULTS.md).
  var index: Int {
    switch self {
    case .number: 0
    case .customerID: 1
    case .customer: 2
    case .contact: 3
    case .email: 4
    case .kind: 5
    case .issued: 6
    case .due: 7
    case .amount: 8
    case .paid: 9
    case .currency: 10
    case .status: 11
    case .pdf: 12
    case .language: 13
    case .phone: 14
    case .reference: 15
    }
  }
}

/// One value per invoice field, by `InvoiceField.index`.
struct FieldValues {
  private var values = [String?](repeating: nil, count: 16)
  subscript(_ f: InvoiceField) -> String? {
    get { values[f.index] }
    set { values[f.index] = newValue }
  }
  /// The fields that have a value, in declaration order.
  var present: [(InvoiceField, String)] {
    InvoiceField.allCases.compactMap { f in values[f.index].map { (f, $0) } }
  }
}

/// What reading the invoice source gave: the good invoices and a problem per bad row.
public struct InvoiceLoad: Sendable {
  public var invoices: [Invoice]
  /// Bad rows, each naming file, line and field; those rows are skipped.
  public var problems: [Problem]
  /// How many records were read.
  public var records: Int
}

/// Reads the invoice file (CSV or JSON array) and checks every row.
///
/// A bad row is skipped with a problem naming file, line and field, and every other row still
/// loads. A file that cannot be read, is not a CSV/JSON array, or lacks a required column throws.
public struct InvoiceSource: Sendable {
  public var config: InvoiceSourceConfig
  /// How the file is named in messages.
  public var displayPath: String

  public init(config: InvoiceSourceConfig, displayPath: String? = nil) {
    self.config = config
    self.displayPath = displayPath ?? InvoiceSource.display(config.path)
  }

  static func realPath(_ p: String) -> String {
    guard let r = realpath(p, nil) else { return p }
    defer { free(r) }
    return String(cString: r)
  }

  /// A path relative to the working directory when it lies below it.
  public static func display(_ path: String) -> String {
    let cwd = FileManager.default.currentDirectoryPath
    return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
  }

  /// Reads and checks the file. A CSV file is read a megabyte at a time (only the invoices stay
  /// in memory, not the file); a JSON file whole.
  public func load() throws(Problems) -> InvoiceLoad {
    let cannotRead = Problems([Problem(file: displayPath, message: "cannot read the invoice file")])
    let fd = open(config.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw cannotRead }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
      let first = Self.readPiece(fd)
    else { throw cannotRead }
    if isJSON(first) {
      guard let rest = try? FileBytes.read(fd) else { throw cannotRead }
      return try parse(bytes: first + rest)
    }
    var failed = false
    let reader = CSVReader(
      first: first,
      refill: {
        guard let piece = Self.readPiece(fd) else {
          failed = true
          return nil
        }
        return piece
      })
    let load = try collect { each throws(Problems) in try csvRows(reader, each) }
    if failed { throw cannotRead }
    return load
  }

  /// Up to a megabyte from `fd` (empty at the end), nil on a read error.
  static func readPiece(_ fd: Int32) -> [UInt8]? {
    let size = 1 << 20
    var failed = false
    let piece = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      while count < size {
        let n = read(fd, buffer.baseAddress! + count, size - count)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { failed = true }
        if n <= 0 { break }
        count += n
      }
    }
    return failed ? nil : piece
  }

  /// JSON by its name, or by its first character.
  func isJSON(_ bytes: [UInt8]) -> Bool {
    var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
    return config.path.lowercased().hasSuffix(".json")
      || (start < bytes.count && bytes[start] == UInt8(ascii: "["))
  }

  public func parse(bytes: [UInt8]) throws(Problems) -> InvoiceLoad {
    let json = isJSON(bytes)
    return try collect { each throws(Problems) in
      json ? try jsonRows(bytes, each) : try csvRows(CSVReader(bytes: bytes), each)
    }
  }

  /// Checks the rows `read` produces, keeps the good invoices, names every bad row; rows that
  /// share a number are all skipped.
  func collect(_ read: ((Row) -> Void) throws(Problems) -> Int) throws(Problems) -> InvoiceLoad {
    var checker = RowChecker(
      file: displayPath, attachments: config.attachments,
      attachmentsReal: InvoiceSource.realPath(config.attachments))
    var invoices: [Invoice] = []
    var problems: [Problem] = []
    // Rows are checked as they are read: only the invoices stay in memory.
    let each: (Row) -> Void = { row in
      switch checker.invoice(from: row) {
      case .success(let inv): invoices.append(inv)
      case .failure(let p): problems.append(contentsOf: p.all)
      }
    }
    let records = try read(each)
    // Rows that share a number are all skipped: which one is right is a person's call.
    var firstLine: [String: Int32] = [:]
    firstLine.reserveCapacity(invoices.count)
    var duplicated: [String: [Int]] = [:]
    for inv in invoices {
      if let first = firstLine.updateValue(Int32(inv.sourceLine), forKey: inv.number) {
        firstLine[inv.number] = first
        duplicated[inv.number, default: [Int(first)]].append(inv.sourceLine)
      }
    }
    firstLine = [:]
    if !duplicated.isEmpty {
      invoices.removeAll { inv in
        guard let all = duplicated[inv.number] else { return false }
        let others = all.filter { $0 != inv.sourceLine }.map(String.init).joined(separator: ", ")
        problems.append(
          Problem(
            file: displayPath, line: inv.sourceLine, field: "number",
            message:
              "duplicate invoice number \"\(inv.number)\" (also on line \(others)); all are skipped"
          ))
        return true
      }
    }
    problems.sort { ($0.line ?? 0, $0.field ?? "") < ($1.line ?? 0, $1.field ?? "") }
    return InvoiceLoad(invoices: invoices, problems: problems, records: records)
  }

  /// One raw record: field → text (nil when absent), or a problem found while reading it.
  struct Row {
    var line: Int
    var values: FieldValues
    var problems: [Problem] = []
  }

  func headerName(for field: InvoiceField) -> String {
    (config.columns[field.rawValue] ?? field.rawValue)
  }

  static func normal(_ s: String) -> String { s.trimmingSpaces.lowercased() }

  /// The field as a String, nil when it is not valid UTF-8. ASCII (nearly every field) skips the
  /// generic validator, which instantiated type metadata on every call (13 % of the parse).
  static func utf8String(_ bytes: [UInt8]) -> String? {
    let ascii = bytes.withUnsafeBufferPointer { b in
      var acc: UInt8 = 0
      for x in b { acc |= x }
      return acc < 0x80
    }
    if ascii { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
  }

  func csvRows(_ reader: CSVReader, _ each: (Row) -> Void) throws(Problems) -> Int {
    var reader = reader
    guard let header = reader.next() else {
      throw Problems([
        Problem(file: displayPath, line: 1, message: "the file is empty: no header row")
      ])
    }
    var index: [(InvoiceField, Int)] = []
    let names = header.fields.map { Self.normal(String(decoding: $0, as: UTF8.self)) }
    for field in InvoiceField.allCases {
      if let i = names.firstIndex(of: Self.normal(headerName(for: field))) {
        index.append((field, i))
      }
    }
    let missing = InvoiceField.required.filter { f in !index.contains { $0.0 == f } }
    if !missing.isEmpty {
      throw Problems(
        missing.map {
          Problem(
            file: displayPath, line: header.line, field: $0.rawValue,
            message: "required column \"\(headerName(for: $0))\" missing from the header")
        })
    }
    var rows = 0
    while let rec = reader.next() {
      var row = Row(line: rec.line, values: FieldValues())
      if rec.unterminated {
        row.problems.append(
          Problem(file: displayPath, line: rec.line, message: "a quoted field is never closed"))
      }
      for (field, i) in index where i < rec.fields.count {
        guard let s = Self.utf8String(rec.fields[i]) else {
          row.problems.append(
            Problem(
              file: displayPath, line: rec.line, field: field.rawValue, message: "not valid UTF-8"))
          continue
        }
        row.values[field] = s
      }
      rows += 1
      each(row)
    }
    return rows
  }

  func jsonRows(_ bytes: [UInt8], _ each: (Row) -> Void) throws(Problems) -> Int {
    let root: JSONNode
    do {
      root = try JSONParser.parse(bytes)
    } catch {
      throw Problems([
        Problem(file: displayPath, line: error.line, message: "invalid JSON: \(error.message)")
      ])
    }
    guard case .array(let items) = root.value else {
      throw Problems([
        Problem(file: displayPath, line: root.line, message: "expected a JSON array of invoices")
      ])
    }
    var rows = 0
    for item in items {
      rows += 1
      var row = Row(line: item.line, values: FieldValues())
      guard case .object(let members) = item.value else {
        row.problems.append(
          Problem(
            file: displayPath, line: item.line,
            message: "expected an object, found \(item.value.typeName)"))
        each(row)
        continue
      }
      for field in InvoiceField.allCases {
        let name = Self.normal(headerName(for: field))
        guard let node = members.last(where: { Self.normal($0.key) == name })?.value else {
          continue
        }
        switch node.value {
        case .string(let s): row.values[field] = s
        case .number(let n): row.values[field] = n
        case .null: break
        default:
          row.problems.append(
            Problem(
              file: displayPath, line: node.line, field: field.rawValue,
              message: "expected a string or number, found \(node.value.typeName)"))
        }
      }
      each(row)
    }
    return rows
  }
}

/// The checks every row passes before it may reach a letter (CONTRACT.md "Invoice source").
struct RowChecker {
  let file: String
  let attachments: String
  let attachmentsReal: String
  /// Many invoices share few PDFs in some exports: a path is checked once while it is among
  /// the recent ones (bounded, so a file of a million distinct PDFs does not keep a million).
  var checked: [String: String?] = [:]

  mutating func cachedAttachmentProblem(_ pdf: String) -> String? {
    if let known = checked[pdf] { return known }
    let result = attachmentProblem(pdf)
    if checked.count >= 4096 { checked.removeAll(keepingCapacity: true) }
    checked[pdf] = result
    return result
  }

  mutating func invoice(from row: InvoiceSource.Row) -> Result<Invoice, Problems> {
    var problems = row.problems
    func fail(_ field: InvoiceField, _ message: String) {
      problems.append(Problem(file: file, line: row.line, field: field.rawValue, message: message))
    }
    var v = FieldValues()
    for (field, raw) in row.values.present {
      if let bad = raw.unicodeScalars.first(where: {
        ($0.value < 0x20 && $0.value != 0x09) || $0.value == 0x7F
      }) {
        let name =
          bad.value == 0x0A
          ? "line feed (LF)"
          : bad.value == 0x0D
            ? "carriage return (CR)"
            : "U+" + String(bad.value, radix: 16, uppercase: true)
        fail(field, "control character \(name) not allowed")
        continue
      }
      let t = raw.trimmingSpaces
      if !t.isEmpty { v[field] = t }
    }
    for field in InvoiceField.required
    where v[field] == nil && !problems.contains(where: { $0.field == field.rawValue }) {
      fail(field, "missing (required)")
    }
    let currency = v[.currency]?.uppercased() ?? "EUR"
    if v[.currency] != nil
      && !(currency.count == 3 && currency.allSatisfy { $0.isASCII && $0.isLetter })
    {
      fail(.currency, "not a currency code: \"\(v[.currency]!)\"")
    }
    func date(_ f: InvoiceField) -> CalendarDate? {
      guard let s = v[f] else { return nil }
      guard let d = CalendarDate(parsing: s) else {
        fail(f, "not a date (YYYY-MM-DD or DD-MM-YYYY): \"\(s)\"")
        return nil
      }
      return d
    }
    func money(_ f: InvoiceField) -> Money? {
      guard let s = v[f] else { return nil }
      do {
        let m = try Money.parse(s, currency: currency)
        if m.cents < 0 {
          fail(f, "must not be negative: \"\(s)\"")
          return nil
        }
        return m
      } catch {
        let why: String
        switch error {
        case .ambiguous: why = "ambiguous amount (write 1234,00 or 1.234,00)"
        case .tooManyDecimals: why = "more than two decimals"
        default: why = "not an amount"
        }
        fail(f, "\(why): \"\(s)\"")
        return nil
      }
    }
    let issued = date(.issued)
    let due = date(.due)
    let amount = money(.amount)
    let paid = money(.paid)
    if let e = v[.email], !EmailAddress.isValid(e) {
      fail(.email, "not a valid email address: \"\(e)\"")
    }
    var kind = CustomerKind.business
    if let k = v[.kind] {
      switch k.lowercased() {
      case "business", "zakelijk", "b2b": kind = .business
      case "consumer", "particulier", "b2c": kind = .consumer
      default: fail(.kind, "must be business or consumer, found \"\(k)\"")
      }
    }
    var status = InvoiceStatus.open
    if let s = v[.status] {
      if let st = InvoiceStatus(rawValue: s.lowercased()) {
        status = st
      } else {
        fail(
          .status, "unknown status \"\(s)\" (open, paid, credited, disputed, payment-plan, on-hold)"
        )
      }
    }
    var language = Language.nl
    if let l = v[.language] {
      if let lang = Language(rawValue: l.lowercased()) {
        language = lang
      } else {
        fail(.language, "must be nl or en, found \"\(l)\"")
      }
    }
    var reference: String? = nil
    if let r = v[.reference] {
      let digits = r.filter { $0 != " " && $0 != "." }
      if digits.allSatisfy(\.isNumber) && (7...16).contains(digits.count) {
        reference = digits
      } else {
        fail(.reference, "a betalingskenmerk has 7 to 16 digits, found \"\(r)\"")
      }
    }
    if let pdf = v[.pdf], let why = cachedAttachmentProblem(pdf) { fail(.pdf, why) }
    guard problems.isEmpty, let number = v[.number], let customer = v[.customer],
      let email = v[.email], let issued, let due, let amount, let pdf = v[.pdf]
    else { return .failure(Problems(problems)) }
    return .success(
      Invoice(
        number: number, customerID: v[.customerID], customer: customer, contact: v[.contact],
        email: email, kind: kind, issued: issued, due: due, amount: amount,
        paid: paid ?? Money(cents: 0, currency: currency), status: status, pdf: pdf,
        language: language, phone: v[.phone], reference: reference, sourceLine: row.line))
  }

  /// Why `pdf` may not be attached: it must name an existing file inside the attachments folder
  /// (no absolute path, no `..`, no symlink out).
  func attachmentProblem(_ pdf: String) -> String? {
    if pdf.hasPrefix("/") || pdf.hasPrefix("\\")
      || pdf.contains(":") && pdf.first?.isLetter == true && pdf.dropFirst().first == ":"
    {
      return "absolute path not allowed: \"\(pdf)\" (name a file inside the attachments folder)"
    }
    let parts = pdf.split(whereSeparator: { $0 == "/" || $0 == "\\" })
    if parts.contains("..") {
      return "path leaves the attachments folder: \"\(pdf)\""
    }
    let full = attachments + "/" + pdf
    // One realpath(3) resolves every symlink on the way; then one stat.
    guard let resolved = realpath(full, nil) else {
      return "file not found in the attachments folder: \"\(pdf)\""
    }
    let real = String(cString: resolved)
    free(resolved)
    var st = stat()
    guard stat(real, &st) == 0 else {
      return "file not found in the attachments folder: \"\(pdf)\""
    }
    if (st.st_mode & S_IFMT) == S_IFDIR { return "is a folder, not a file: \"\(pdf)\"" }
    if !(real.hasPrefix(attachmentsReal + "/")) {
      return "path leaves the attachments folder (symbolic link): \"\(pdf)\""
    }
    return nil
  }
}

/// Reads whole files into one buffer sized by fstat: not through `Data` (which held a file twice
/// at the peak) and without zero-filling the buffer first.
public enum FileBytes {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// The rest of the open file `fd` (a regular file), then any bytes it grew by since fstat.
  public static func read(_ fd: Int32) throws(Failure) -> [UInt8] {
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      throw Failure(description: "not a regular file")
    }
    let size = Int(st.st_size)
    var failure: Int32 = 0
    var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      while count < size {
        let n = Glibc.read(fd, buffer.baseAddress! + count, size - count)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { failure = errno }
        if n <= 0 { break }
        count += n
      }
    }
    if failure != 0 { throw Failure(description: String(cString: strerror(failure))) }
    // A file that grew since fstat: the rest too (one more read, normally of nothing).
    var more = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = more.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      bytes += more[0..<n]
    }
    return bytes
  }
}
