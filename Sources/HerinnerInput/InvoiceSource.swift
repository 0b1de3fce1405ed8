import Foundation
import HerinnerCore

/// The fields of an invoice record (the README's "The invoice file").
public enum InvoiceField: String, CaseIterable, Sendable {
  case number
  case customerID = "customer_id"
  case customer, contact, email, kind, issued, due, amount, paid, currency, status, pdf, language,
    phone, reference

  public static let required: [InvoiceField] = [
    .number, .customer, .email, .issued, .due, .amount, .pdf,
  ]

  /// The field's place in a row (rows are arrays, not dictionaries: no field name is hashed
  /// per row; see Benchmarks/RESULTS.md).
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
  /// The fields whose value was a JSON number, one bit per `InvoiceField.index`.
  private var numberBits: UInt16 = 0
  subscript(_ f: InvoiceField) -> String? {
    get { values[f.index] }
    set { values[f.index] = newValue }
  }
  /// Whether the value is a JSON number's text (a number, not a Dutch-formatted string).
  func isNumber(_ f: InvoiceField) -> Bool { numberBits & (1 << UInt16(f.index)) != 0 }
  mutating func setNumber(_ f: InvoiceField, _ text: String) {
    values[f.index] = text
    numberBits |= 1 << UInt16(f.index)
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
  /// How many records (rows after the header, blank ones not counted) were read.
  public var records: Int
  /// How many of them were skipped as bad (a row with several problems counts once).
  public var badRows: Int
  /// True when the file gave no invoice at all: a header without rows, or only bad rows. An
  /// export that went wrong must not look like a quiet night: `check` exits 2 and `send`
  /// should exit 1 with `noInvoices` on stderr.
  public var isEmptyOrAllBad: Bool
  /// Where the invoices were read from, as messages name it.
  public var file: String

  public init(
    invoices: [Invoice], problems: [Problem], records: Int, badRows: Int? = nil,
    file: String = ""
  ) {
    self.invoices = invoices
    self.problems = problems
    self.records = records
    self.badRows = badRows ?? max(records - invoices.count, 0)
    self.isEmptyOrAllBad = invoices.isEmpty
    self.file = file
  }

  /// The problem to report when `isEmptyOrAllBad`, else nil.
  public var noInvoices: Problem? {
    guard isEmptyOrAllBad else { return nil }
    return Problem(
      file: file,
      message: records == 0
        ? "no invoices: the file has a header but no rows"
        : "no invoices: every one of the \(records) rows is bad (is this the right export?)")
  }
}

/// The text encodings an invoice export may be in (`invoices.encoding`).
public enum InvoiceEncoding: String, Sendable, Hashable, CaseIterable {
  case utf8 = "utf-8"
  /// Excel on Windows and older bookkeeping packages. A file that is valid UTF-8 is still read
  /// as UTF-8 (Windows-1252 text with letters beyond ASCII practically never is).
  case windows1252 = "windows-1252"
}

/// Whether an invoice's `pdf` may be attached: the one row check that needs the file system,
/// injected so the rest of the row checks stay pure.
public struct AttachmentCheck: Sendable {
  /// Why the file (a relative path that lexically stays inside the folder) cannot be attached,
  /// or nil when it can.
  public var check: @Sendable (_ pdf: String) -> String?

  public init(check: @escaping @Sendable (_ pdf: String) -> String?) { self.check = check }

  public func problem(for pdf: String) -> String? { check(pdf) }

  /// The live check against the folder at `path`: the file exists, is not a folder, and its
  /// real path (every symbolic link resolved) lies inside the folder's real path.
  public static func folder(_ path: String) -> AttachmentCheck {
    let folderReal = InvoiceSource.realPath(path)
    return AttachmentCheck { pdf in
      let full = path + "/" + pdf
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
      if !real.hasPrefix(folderReal + "/") {
        return "path leaves the attachments folder (symbolic link): \"\(pdf)\""
      }
      return nil
    }
  }
}

/// Reads the invoice file (CSV or JSON array) and checks every row.
///
/// A bad row is skipped with a problem naming file, line and field, and every other row still
/// loads. A file that cannot be read, is not a CSV/JSON array, or lacks a required column throws.
public struct InvoiceSource: Sendable {
  public var config: InvoiceSourceConfig
  /// How the file is named in messages.
  public var displayPath: String
  /// Whether a row's `pdf` exists in the attachments folder.
  public var attachments: AttachmentCheck

  /// - Parameter attachments: the attachment check; the live folder `config.attachments` when nil.
  public init(
    config: InvoiceSourceConfig, displayPath: String? = nil, attachments: AttachmentCheck? = nil
  ) {
    self.config = config
    self.displayPath = displayPath ?? InvoiceSource.display(config.path)
    self.attachments = attachments ?? .folder(config.attachments)
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
    // JSON is parsed whole; a Windows-1252 file is decoded whole (whether it is valid UTF-8 is
    // a property of the whole file, not of one piece).
    if isJSON(first) || config.encoding == .windows1252 {
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

  /// Reads and checks the file's bytes. Pure apart from the injected attachment check.
  public func parse(bytes: [UInt8]) throws(Problems) -> InvoiceLoad {
    var bytes = bytes
    // A byte order mark says UTF-8 whatever the config says: such a file is not transcoded.
    if config.encoding == .windows1252 && !bytes.starts(with: [0xEF, 0xBB, 0xBF])
      && String(validating: bytes, as: UTF8.self) == nil
    {
      switch Windows1252.utf8(bytes) {
      case .success(let utf8): bytes = utf8
      case .failure(let bad):
        throw Problems([
          Problem(
            file: displayPath, line: bad.line,
            message:
              "byte 0x\(String(bad.byte, radix: 16, uppercase: true)) is not a Windows-1252 "
              + "character: is \"invoices.encoding\" right for this file?")
        ])
      }
    }
    let json = isJSON(bytes)
    return try collect { each throws(Problems) in
      json ? try jsonRows(bytes, each) : try csvRows(CSVReader(bytes: bytes), each)
    }
  }

  /// Checks the rows `read` produces, keeps the good invoices, names every bad row; rows that
  /// share a number are all skipped.
  func collect(_ read: ((Row) -> Void) throws(Problems) -> Int) throws(Problems) -> InvoiceLoad {
    var checker = RowChecker(file: displayPath, attachments: attachments)
    var invoices: [Invoice] = []
    var problems: [Problem] = []
    var bad = 0
    // The numbers of bad rows: a good row sharing one is skipped too (which is right is a
    // person's call, and the bad one may be the real invoice).
    var badNumbers: [String: [Int]] = [:]
    // Rows are checked as they are read: only the invoices stay in memory.
    let each: (Row) -> Void = { row in
      switch checker.invoice(from: row) {
      case .success(let inv): invoices.append(inv)
      case .failure(let p):
        problems.append(contentsOf: p.all)
        bad += 1
        if !row.unreadable, let n = row.values[.number]?.trimmingSpaces, !n.isEmpty {
          badNumbers[String(n), default: []].append(row.line)
        }
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
    for (number, lines) in badNumbers {
      guard let good = firstLine[number] else { continue }
      duplicated[number, default: [Int(good)]] += lines
    }
    firstLine = [:]
    if !duplicated.isEmpty {
      invoices.removeAll { inv in
        guard let all = duplicated[inv.number] else { return false }
        bad += 1
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
    return InvoiceLoad(
      invoices: invoices, problems: problems, records: records, badRows: bad, file: displayPath)
  }

  /// One raw record: field → text (nil when absent), or a problem found while reading it.
  struct Row {
    var line: Int
    var values: FieldValues
    var problems: [Problem] = []
    /// The record as a whole cannot be read (its quoting or field count is broken): its
    /// problem says why, and its fields are not checked one by one.
    var unreadable = false
  }

  func headerName(for field: InvoiceField) -> String {
    (config.columns[field.rawValue] ?? field.rawValue)
  }

  static func normal(_ s: String) -> String { s.trimmingSpaces.lowercased() }

  /// The field as a String, nil when it is not valid UTF-8. ASCII (nearly every field) skips the
  /// generic validator, which instantiates type metadata on every call.
  static func utf8String(_ bytes: [UInt8]) -> String? {
    let ascii = bytes.withUnsafeBufferPointer { b in
      var acc: UInt8 = 0
      for x in b { acc |= x }
      return acc < 0x80
    }
    if ascii { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
  }

  /// Whether the bytes are UTF-8, without making a String of the (ASCII) common case.
  static func isUTF8(_ bytes: [UInt8]) -> Bool {
    let ascii = bytes.withUnsafeBufferPointer { b in
      var acc: UInt8 = 0
      for x in b { acc |= x }
      return acc < 0x80
    }
    return ascii || String(validating: bytes, as: UTF8.self) != nil
  }

  /// The problem for bytes that are not UTF-8, with the hint that names the way out.
  func notUTF8(line: Int, field: String?) -> Problems {
    Problems([
      Problem(
        file: displayPath, line: line, field: field,
        message:
          "not valid UTF-8 (the first such line of the file); an export in Windows-1252 is "
          + "read with \"encoding\": \"windows-1252\" under \"invoices\" in the config")
    ])
  }

  func csvRows(_ reader: CSVReader, _ each: (Row) -> Void) throws(Problems) -> Int {
    var reader = reader
    guard let header = reader.next() else {
      throw Problems([
        Problem(file: displayPath, line: 1, message: "the file is empty: no header row")
      ])
    }
    if let flaw = header.flaw {
      throw Problems([problem(flaw, header: true)])
    }
    var names: [String] = []
    for f in header.fields {
      guard let name = Self.utf8String(f) else { throw notUTF8(line: header.line, field: nil) }
      names.append(Self.normal(name))
    }
    var index: [(InvoiceField, Int)] = []
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
      // The whole file is UTF-8 or it is refused (a Windows-1252 export read as UTF-8 would
      // garble every name with an accent): every field is checked, also the unused ones.
      for (k, f) in rec.fields.enumerated() where !Self.isUTF8(f) {
        throw notUTF8(line: rec.line, field: index.first { $0.1 == k }?.0.rawValue)
      }
      // A row of empty fields (a spreadsheet's formatted but empty row) is a blank line.
      if rec.flaw == nil && rec.fields.allSatisfy({ Self.isBlank($0) }) { continue }
      rows += 1
      var row = Row(line: rec.line, values: FieldValues())
      if let flaw = rec.flaw {
        // The fields of a record whose quoting is broken are not what the file meant: one
        // problem for the row, no guesses about its fields.
        row.problems.append(problem(flaw, header: false))
        row.unreadable = true
        each(row)
        continue
      }
      if rec.fields.count > header.fields.count {
        row.problems.append(
          Problem(
            file: displayPath, line: rec.line,
            message:
              "\(rec.fields.count) fields where the header has \(header.fields.count); the row "
              + "is skipped rather than read with shifted columns (an unquoted "
              + "\(delimiterName(reader.delimiter)) inside a value"
              + (reader.delimiter == UInt8(ascii: ",") ? ", as in 1,250.00," : "")
              + " splits it)"))
        row.unreadable = true
        each(row)
        continue
      }
      for (field, i) in index where i < rec.fields.count {
        row.values[field] = String(decoding: rec.fields[i], as: UTF8.self)
      }
      each(row)
    }
    return rows
  }

  static func isBlank(_ field: [UInt8]) -> Bool {
    field.allSatisfy { $0 == 0x20 || $0 == 0x09 }
  }

  func delimiterName(_ d: UInt8) -> String {
    switch d {
    case UInt8(ascii: ","): "comma"
    case UInt8(ascii: ";"): "semicolon"
    case 0x09: "tab"
    default: "\"\(Character(Unicode.Scalar(d)))\""
    }
  }

  func problem(_ flaw: CSVReader.Flaw, header: Bool) -> Problem {
    let what = header ? "the header" : "the row"
    switch flaw {
    case .unclosedQuote(let line):
      return Problem(
        file: displayPath, line: line,
        message:
          "a quote (\") opened on this line is never closed; \(what) is skipped and reading "
          + "goes on at the next line")
    case .textAfterQuote(let line):
      return Problem(
        file: displayPath, line: line,
        message:
          "text follows a closing quote (\"); \(what) is skipped (a quote inside a quoted "
          + "value is written twice: \"\")")
    }
  }

  func jsonRows(_ bytes: [UInt8], _ each: (Row) -> Void) throws(Problems) -> Int {
    let root: JSONNode
    do {
      root = try JSONParser.parse(bytes)
    } catch {
      if error.message == JSONParser.invalidUTF8 { throw notUTF8(line: error.line, field: nil) }
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
        row.unreadable = true
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
        case .number(let n): row.values.setNumber(field, n)
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

/// The checks every row passes before it may reach a letter.
struct RowChecker {
  let file: String
  let attachments: AttachmentCheck
  /// Many invoices share few PDFs in some exports: a path is checked once while it is among
  /// the recent ones (bounded, so a file of a million distinct PDFs does not keep a million).
  var checked: [String: String?] = [:]

  mutating func cachedAttachmentProblem(_ pdf: String) -> String? {
    if let known = checked[pdf] { return known }
    let result = Self.pathProblem(pdf) ?? attachments.problem(for: pdf)
    if checked.count >= 4096 { checked.removeAll(keepingCapacity: true) }
    checked[pdf] = result
    return result
  }

  mutating func invoice(from row: InvoiceSource.Row) -> Result<Invoice, Problems> {
    if row.unreadable { return .failure(Problems(row.problems)) }
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
      if !t.isEmpty {
        if row.values.isNumber(field) { v.setNumber(field, t) } else { v[field] = t }
      }
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
      // A JSON number is a number (RFC 8259 §6): its dot is the decimal mark, never the Dutch
      // thousands dot, which only a string may carry.
      let number = v.isNumber(f)
      let shown = number ? s : "\"\(s)\""
      do {
        let m =
          number
          ? try Money.parse(decimal: s, currency: currency)
          : try Money.parse(s, currency: currency)
        if m.cents < 0 {
          fail(f, "must not be negative: \(shown)")
          return nil
        }
        return m
      } catch {
        fail(f, "\(InvoiceSource.amountProblem(error)): \(shown)")
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

  /// Why `pdf` cannot name a file inside the attachments folder by its text alone: an absolute
  /// path or a `..` step. Pure; the file system check is `attachments`.
  static func pathProblem(_ pdf: String) -> String? {
    if pdf.hasPrefix("/") || pdf.hasPrefix("\\")
      || pdf.contains(":") && pdf.first?.isLetter == true && pdf.dropFirst().first == ":"
    {
      return "absolute path not allowed: \"\(pdf)\" (name a file inside the attachments folder)"
    }
    let parts = pdf.split(whereSeparator: { $0 == "/" || $0 == "\\" })
    if parts.contains("..") {
      return "path leaves the attachments folder: \"\(pdf)\""
    }
    return nil
  }
}

extension InvoiceSource {
  /// An amount's problem in a bookkeeper's words.
  static func amountProblem(_ error: Money.ParseError) -> String {
    switch error {
    case .ambiguous: "ambiguous amount (write 1234,00 or 1.234,00)"
    case .tooManyDecimals: "more than two decimals (an amount is exact to the cent)"
    case .overflow: "amount too large"
    case .empty, .invalid: "not an amount"
    }
  }
}

/// Windows-1252 to UTF-8 (the WHATWG encoding standard's table for 0x80–0x9F; 0xA0–0xFF are
/// Latin-1). The five bytes the code page leaves undefined are refused, not guessed.
enum Windows1252 {
  static let high: [UInt32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
  ]

  struct Undefined: Error {
    var byte: UInt8
    var line: Int
  }

  static func utf8(_ bytes: [UInt8]) -> Result<[UInt8], Undefined> {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + bytes.count / 8)
    var line = 1
    var previous: UInt8 = 0
    for b in bytes {
      if b == 0x0A && previous != 0x0D || b == 0x0D { line += 1 }
      previous = b
      if b < 0x80 {
        out.append(b)
        continue
      }
      let scalar = b < 0xA0 ? high[Int(b - 0x80)] : UInt32(b)
      guard scalar != 0, let u = Unicode.Scalar(scalar) else {
        return .failure(Undefined(byte: b, line: line))
      }
      out.append(contentsOf: Array(String(Character(u)).utf8))
    }
    return .success(out)
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
