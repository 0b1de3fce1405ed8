/// The Dutch structured payment reference (betalingskenmerk).
///
/// Source: Betaalvereniging, specificaties betalingskenmerk: 16 digits = check digit C + 15
/// digits; C is weighted mod 11 over the digits right to left with weights 2, 4, 8, 5, 10, 9, 7,
/// 3, 6, 1 (repeating): C = 11 − (Σ mod 11), with 10 → 1 and 11 → 0. Example 5000056789012345.
public enum Betalingskenmerk {
  static let weights = [2, 4, 8, 5, 10, 9, 7, 3, 6, 1]

  static func checkDigit(_ digits: [Int]) -> Int {
    var sum = 0
    for (i, d) in digits.reversed().enumerated() { sum += d * weights[i % weights.count] }
    let c = 11 - sum % 11
    return c == 10 ? 1 : c == 11 ? 0 : c
  }

  /// True for a 16-digit reference whose check digit is right (also for the 7–14 digit forms
  /// with a length code: C, L, digits).
  public static func isValid(_ text: String) -> Bool {
    let digits = text.compactMap(\.wholeNumberValue)
    guard digits.count == text.count else { return false }
    switch digits.count {
    case 16: return checkDigit(Array(digits.dropFirst())) == digits[0]
    case 9...14:
      return checkDigit(Array(digits.dropFirst())) == digits[0] && digits[1] == digits.count % 10
    case 7: return true  // no check digit in the 7-digit form
    default: return false
    }
  }

  /// The 16-digit reference herinner generates for an invoice: its number's digits, left-padded
  /// to 15, behind their check digit. Nil when the number has no digits or more than 15.
  public static func generate(for invoiceNumber: String) -> String? {
    let digits = invoiceNumber.compactMap(\.wholeNumberValue)
    guard !digits.isEmpty, digits.count <= 15 else { return nil }
    let body = Array(repeating: 0, count: 15 - digits.count) + digits
    return ([checkDigit(body)] + body).map(String.init).joined()
  }
}

/// One incoming bank credit (or a debit, which herinner ignores).
public struct BankTransaction: Sendable, Hashable {
  /// The bank's own reference for the entry, or a key built from its contents.
  public var key: String
  public var account: String
  public var bookingDate: CalendarDate
  public var amount: Money
  public var isCredit: Bool
  public var isReversal: Bool
  public var debtorName: String?
  public var debtorIBAN: String?
  public var remittance: String?
  public var structuredReference: String?
  /// The payer's end-to-end reference (CAMT `EndToEndId`, MT940 `/EREF/`): it ties a
  /// reversal to the credit it undoes.
  public var endToEndID: String?

  /// A reversal that takes back an earlier credit (CAMT `RvslInd` on a DBIT entry, MT940
  /// `RC`): the credit it undoes is no payment any more.
  public var undoesACredit: Bool { isReversal && !isCredit }

  /// A credit that is a payment to us: not a reversal (of a debit of ours), not zero.
  public var isIncomingPayment: Bool { isCredit && !isReversal && amount.cents > 0 }

  public init(
    key: String, account: String, bookingDate: CalendarDate, amount: Money, isCredit: Bool,
    isReversal: Bool = false,
    debtorName: String? = nil, debtorIBAN: String? = nil, remittance: String? = nil,
    structuredReference: String? = nil, endToEndID: String? = nil
  ) {
    self.key = key
    self.account = account
    self.bookingDate = bookingDate
    self.amount = amount
    self.isCredit = isCredit
    self.isReversal = isReversal
    self.debtorName = debtorName
    self.debtorIBAN = debtorIBAN
    self.remittance = remittance
    self.structuredReference = structuredReference
    self.endToEndID = endToEndID
  }

  /// The key for an entry without a bank reference: account + date + amount + counterparty + text.
  public static func contentKey(
    account: String, date: CalendarDate, amount: Money, counterparty: String?, text: String?
  ) -> String {
    "\(account)|\(date.iso)|\(amount.cents)|\(counterparty ?? "")|\(text ?? "")"
  }
}

/// How a payment was matched, in order of certainty.
public enum MatchRule: String, Sendable, Codable {
  case reference
  case invoiceNumber = "invoice-number"
  case amountAndDebtor = "amount-debtor"
}

/// The verdict on one credit.
public enum PaymentMatch: Sendable, Hashable {
  /// Applied: amount per invoice; `overpaid` is what is left after settling them all.
  case matched(rule: MatchRule, allocations: [String: Money], overpaid: Money)
  /// Not certain: a person decides (`payments unmatched`); these invoices' customers are held.
  case unmatched(reason: String, suspects: [String])
}

/// Matches incoming credits to open invoices. Pure.
///
/// It never settles an invoice on a coincidence: a valid betalingskenmerk is enough by
/// itself; an invoice number in the text only when the amount fits (one invoice, or several
/// whose outstanding amounts add up) or the payer is that invoice's customer; the amount and
/// the payer only for a single open invoice of that amount. Everything else waits for a
/// person, with the invoices it might pay.
public struct PaymentMatcher: Sendable {
  public var invoices: [Invoice]
  /// IBANs seen before on matched payments, per customer key (learned from the ledger).
  public var knownIBANs: [String: Set<String>]

  public init(invoices: [Invoice], knownIBANs: [String: Set<String>] = [:]) {
    self.invoices = invoices.filter { $0.status == .open && $0.outstanding.cents > 0 }
    self.knownIBANs = knownIBANs
  }

  static func alnum(_ s: String) -> String {
    String(s.uppercased().filter { $0.isLetter || $0.isNumber })
  }

  static func normalName(_ s: String) -> String {
    var n = " " + s.lowercased().replacingAll("\u{00A0}", with: " ") + " "
    for noise in [
      " b.v. ", " bv ", " b.v ", " v.o.f. ", " vof ", " hr ", " mw ", " dhr ", " mevr ",
      " de heer ",
      " mevrouw ", " inzake ",
    ] {
      n = n.replacingAll(noise, with: " ")
    }
    return String(n.filter { $0.isLetter || $0.isNumber })
  }

  /// The letter and digit groups of a text, with what separates each from the one before.
  struct Group {
    var text: String
    var separatorBefore: String
  }

  static func groups(_ s: String) -> [Group] {
    var out: [Group] = []
    var current = ""
    var separator = ""
    for c in s.uppercased() {
      if c.isLetter || c.isNumber {
        // A letter prefix glued to digits (F20260042, INV2026-0042) is a group of its own.
        if let last = current.last, last.isLetter != c.isLetter, !c.isLetter {
          out.append(Group(text: current, separatorBefore: separator))
          current = ""
          separator = ""
        }
        current.append(c)
      } else {
        if !current.isEmpty {
          out.append(Group(text: current, separatorBefore: separator))
          current = ""
          separator = ""
        }
        separator.append(c)
      }
    }
    if !current.isEmpty { out.append(Group(text: current, separatorBefore: separator)) }
    return out
  }

  /// Invoice numbers found in a free text: as written (`2026-0101`), without their separators
  /// (`20260101`), with other separators between the same parts (`2026 0101`, `2026/0101`), or
  /// behind a prefix (`F2026-0101`, `factuur 2026-0101`). The parts must be the invoice's own:
  /// the date 2026-01-01 is not invoice 2026-0101, and 2026-0101-2 is not 2026-0101.
  public func numbers(in text: String) -> [String] {
    let g = Self.groups(text)
    func joins(_ sep: String) -> Bool { sep.isEmpty || sep.allSatisfy { "-./_ ".contains($0) } }
    var found: [String] = []
    for inv in invoices where !found.contains(inv.number) {
      let parts = Self.groups(inv.number).map(\.text)
      let whole = parts.joined()
      guard whole.count >= 4, whole.contains(where: \.isNumber) else { continue }
      var hit = false
      for i in g.indices where !hit {
        // Either the parts one by one, or all of them in one group.
        for candidate in [parts, [whole]] where !hit {
          guard i + candidate.count <= g.count else { continue }
          let run = g[i..<(i + candidate.count)]
          guard zip(run, candidate).allSatisfy({ $0.text == $1 }) else { continue }
          guard run.dropFirst().allSatisfy({ joins($0.separatorBefore) }) else { continue }
          // Not part of a longer number: no digits glued on with a dash, dot or slash.
          let before = i > 0 ? g[i - 1] : nil
          let after = i + candidate.count < g.count ? g[i + candidate.count] : nil
          func extends(_ neighbour: Group?, separator: String) -> Bool {
            guard let neighbour, neighbour.text.first?.isNumber == true else { return false }
            return separator.isEmpty || separator.allSatisfy { "-./_".contains($0) }
          }
          if extends(before, separator: run[run.startIndex].separatorBefore) { continue }
          if let after, extends(after, separator: after.separatorBefore) { continue }
          hit = true
        }
      }
      if hit { found.append(inv.number) }
    }
    return found
  }

  public func match(_ t: BankTransaction) -> PaymentMatch {
    let cur = t.amount.currency
    // A letter covers one currency; so does a payment.
    let open = invoices.filter { $0.currency == cur }
    func allocate(_ matched: [Invoice], rule: MatchRule) -> PaymentMatch {
      var left = t.amount.cents
      var allocations: [String: Money] = [:]
      for inv in matched {
        let part = min(left, inv.outstanding.cents)
        if part > 0 { allocations[inv.number] = Money(cents: part, currency: cur) }
        left -= part
      }
      return .matched(
        rule: rule, allocations: allocations, overpaid: Money(cents: left, currency: cur))
    }
    // 1. The betalingskenmerk.
    if let ref = t.structuredReference.map({ $0.filter(\.isNumber) }), !ref.isEmpty {
      let hits = open.filter {
        ($0.reference ?? Betalingskenmerk.generate(for: $0.number)) == ref
      }
      if Betalingskenmerk.isValid(ref), hits.count == 1 { return allocate(hits, rule: .reference) }
      if hits.count > 1 {
        return .unmatched(
          reason: "betalingskenmerk \(ref) fits several invoices", suspects: hits.map(\.number))
      }
    }
    // 16-digit references typed in the free text.
    if let text = t.remittance {
      let refs = text.split(whereSeparator: { !$0.isNumber }).map(String.init).filter {
        $0.count == 16 && Betalingskenmerk.isValid($0)
      }
      let hits = open.filter { inv in
        refs.contains(inv.reference ?? Betalingskenmerk.generate(for: inv.number) ?? "-")
      }
      if hits.count == 1 { return allocate(hits, rule: .reference) }
    }
    let name = t.debtorName.map(Self.normalName) ?? ""
    let iban = t.debtorIBAN.map(IBAN.normalized)
    func sameDebtor(_ inv: Invoice) -> Bool {
      if let iban, knownIBANs[inv.customerKey]?.contains(iban) == true { return true }
      return !name.isEmpty && Self.normalName(inv.customer) == name
    }
    // 2. Invoice numbers in the remittance text: enough when the amount fits or the payer is
    // the customer, never on the number alone.
    let mentioned = numbers(in: t.remittance ?? "")
    if !mentioned.isEmpty {
      let hits = open.filter { mentioned.contains($0.number) }
      let total = hits.reduce(Int64(0)) { $0 + $1.outstanding.cents }
      if !hits.isEmpty, total == t.amount.cents { return allocate(hits, rule: .invoiceNumber) }
      if hits.count == 1, sameDebtor(hits[0]) { return allocate(hits, rule: .invoiceNumber) }
      let why: String
      if hits.count == 1 {
        why =
          "names invoice \(hits[0].number) of \(hits[0].outstanding.dutch) but pays \(t.amount.dutch), and \(t.debtorName ?? "the payer") is not known as its customer"
      } else {
        why =
          "names invoices \(mentioned.joined(separator: ", ")) but pays \(t.amount.dutch) of \(Money(cents: total, currency: cur).dutch) outstanding"
      }
      return .unmatched(reason: why, suspects: mentioned)
    }
    // 3. Amount + debtor for a single open invoice.
    let byDebtor = open.filter(sameDebtor)
    let exact = byDebtor.filter { $0.outstanding.cents == t.amount.cents }
    if exact.count == 1 { return allocate(exact, rule: .amountAndDebtor) }
    let suspects = (exact.isEmpty ? byDebtor : exact).map(\.number)
    return .unmatched(
      reason: exact.count > 1
        ? "several open invoices of \(t.debtorName ?? "this debtor") match \(t.amount.dutch)"
        : "no invoice could be identified",
      suspects: suspects)
  }
}

/// The imported payments as the night sees them: what matched credits paid per invoice, which
/// credits wait for a person (their customers are held from reminders), and the IBANs known
/// per customer. A value: read from the ledger by the caller, applied here. Pure.
public struct PaymentState: Sendable {
  public struct Unmatched: Sendable, Hashable {
    public var id: Int64
    public var amount: Money
    public var bookingDate: String
    public var suspects: [String]

    public init(id: Int64, amount: Money, bookingDate: String, suspects: [String]) {
      self.id = id
      self.amount = amount
      self.bookingDate = bookingDate
      self.suspects = suspects
    }
  }

  /// Cents per invoice from matched credits that were not reversed.
  public var allocated: [String: Int64] = [:]
  public var unmatched: [Unmatched] = []
  /// IBANs seen on matched payments, per customer key.
  public var knownIBANs: [String: Set<String>] = [:]

  public init() {}

  /// - Parameter matched: each matched credit's IBAN and the invoices it paid, to learn which
  ///   accounts a customer pays from.
  public init(
    allocated: [String: Int64], unmatched: [Unmatched],
    matched: [(iban: String?, invoices: [String])], invoices: [Invoice]
  ) {
    self.allocated = allocated
    self.unmatched = unmatched
    let byNumber = Dictionary(invoices.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    for m in matched {
      guard let iban = m.iban.map(IBAN.normalized) else { continue }
      for n in m.invoices {
        if let inv = byNumber[n] { knownIBANs[inv.customerKey, default: []].insert(iban) }
      }
    }
  }

  /// The invoice with matched bank payments counted on top of the export's `paid`. Should the
  /// bookkeeping already include an imported payment, it is counted twice and the reminder
  /// errs on the side of not reminding someone who paid (the product's first promise).
  public func apply(_ inv: Invoice) -> Invoice {
    guard let a = allocated[inv.number], a > 0 else { return inv }
    var i = inv
    i.paid = Money(cents: inv.paid.cents + a, currency: inv.currency)
    return i
  }

  /// Customers with an unmatched incoming payment: held from reminders until it is resolved.
  public func holds(_ invoices: [Invoice]) -> [String: String] {
    let byNumber = Dictionary(invoices.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    var out: [String: String] = [:]
    for p in unmatched {
      for n in p.suspects {
        if let inv = byNumber[n] {
          out[inv.customerKey] =
            "unmatched payment #\(p.id) of \(p.amount.dutch) on \(p.bookingDate) (herinner payments unmatched)"
        }
      }
    }
    return out
  }

  /// Applies payments and holds to invoices and histories.
  public func applied(_ invoices: [Invoice], _ histories: inout [String: InvoiceHistory])
    -> [Invoice]
  {
    // Without bank payments the invoices are shared as they are, not copied.
    guard !allocated.isEmpty || !unmatched.isEmpty else { return invoices }
    let held = holds(invoices)
    let out = invoices.map(apply)
    for inv in out {
      if let why = held[inv.customerKey] { histories[inv.number, default: .empty].hold = why }
    }
    return out
  }
}
