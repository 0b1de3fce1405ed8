import HerinnerCore

/// One reminder letter: a step for one customer, covering one or more of its invoices.
///
/// Everything here is computed by the core: amounts, deadlines and costs are never typed in a
/// template. Pure.
public struct Letter: Sendable {
  public var step: Step
  /// The invoices, oldest due date first (a bundled letter lists them in that order).
  public var invoices: [Invoice]
  public var sender: Sender
  /// The day the letter is sent (the run's date).
  public var date: CalendarDate
  /// The payment deadline stated in the letter.
  public var deadline: CalendarDate
  /// The first reminder's date, which the second refers to ("Ondanks onze herinnering van …").
  public var firstSentOn: CalendarDate?
  /// Per invoice number, the day its own first reminder was sent: a bundled second letter names
  /// each one. An invoice without an entry had none (a claim a 14-day letter took along).
  public var remindedOn: [String: CalendarDate]
  /// Collection costs stated, VAT included when `costsIncludeVAT` (the consumer's 14-day letter:
  /// WIK over the summed principal; the business letter: the compensation of art. 6:96 lid 4 BW).
  public var costs: Money?
  public var costsIncludeVAT: Bool
  /// What a business's second letter does with the compensation and commercial interest.
  public var businessCompensation: BusinessCompensation
  /// The days of the earlier 14-day letters this one replaces (it says so and names them).
  public var replaces: [CalendarDate]
  public var isResend: Bool
  public var termDays: Int

  public init(
    step: Step, invoices: [Invoice], sender: Sender, date: CalendarDate, deadline: CalendarDate,
    firstSentOn: CalendarDate? = nil, remindedOn: [String: CalendarDate] = [:],
    costs: Money? = nil, costsIncludeVAT: Bool = false,
    businessCompensation: BusinessCompensation = .waiveIfPaidInTime,
    replaces: [CalendarDate] = [], isResend: Bool = false, termDays: Int
  ) {
    precondition(!invoices.isEmpty, "a letter covers at least one invoice")
    self.step = step
    self.invoices = invoices.enumerated().sorted {
      ($0.element.due, $0.offset) < ($1.element.due, $1.offset)
    }.map(\.element)
    self.sender = sender
    self.date = date
    self.deadline = deadline
    self.firstSentOn = firstSentOn ?? remindedOn.values.min()
    self.remindedOn = remindedOn
    self.costs = costs
    self.costsIncludeVAT = costsIncludeVAT
    self.businessCompensation = businessCompensation
    self.replaces = Array(Set(replaces)).sorted()
    self.isResend = isResend
    self.termDays = termDays
  }

  /// Builds the letter the policy prescribes for `step` sent on `date`: the deadline, and for a
  /// `second` the WIK costs over the summed principal (art. 6:96 lid 6 and 7 BW), or
  /// `costsOverride` (the costs an earlier letter stated, or what the claim model says is owed).
  public static func make(
    step: Step, invoices: [Invoice], sender: Sender, policy: Policy, date: CalendarDate,
    firstSentOn: CalendarDate?, remindedOn: [String: CalendarDate] = [:],
    replaces: [CalendarDate] = [], isResend: Bool = false, costsOverride: Money? = nil
  ) -> Letter {
    let kind = invoices[0].kind
    let deadline: CalendarDate
    let term: Int
    var costs: Money? = nil
    switch step {
    case .second:
      deadline = policy.secondDeadline(sentOn: date, kind: kind)
      term =
        kind == .consumer ? max(14, policy.secondReminderTermDays) : policy.secondReminderTermDays
      let principal = invoices.map(\.outstanding).reduce(
        Money(cents: 0, currency: invoices[0].currency), +)
      costs =
        costsOverride
        ?? CollectionCosts.wik(principal: principal, addVAT: policy.collectionCostsIncludeVAT)
    default:
      deadline = policy.firstDeadline(sentOn: date)
      term = policy.firstReminderTermDays
    }
    return Letter(
      step: step, invoices: invoices, sender: sender, date: date, deadline: deadline,
      firstSentOn: firstSentOn, remindedOn: remindedOn, costs: costs,
      costsIncludeVAT: policy.collectionCostsIncludeVAT,
      businessCompensation: policy.businessCompensation,
      replaces: kind == .consumer && step == .second ? replaces : [], isResend: isResend,
      termDays: term)
  }

  public var first: Invoice { invoices[0] }
  public var language: Language { first.language }
  public var kind: CustomerKind { first.kind }
  public var total: Money {
    invoices.map(\.outstanding).reduce(Money(cents: 0, currency: first.currency), +)
  }

  /// Days since the oldest invoice fell due (0 when none has yet).
  public var daysOverdue: Int {
    max(0, invoices.map(\.due).min().map { $0.days(until: date) } ?? 0)
  }

  /// Overdue by more than a month: the opening no longer suggests it slipped the reader's mind.
  public var isLongOverdue: Bool { daysOverdue > 30 }

  /// A business's second letter that claims the compensation now (art. 6:96 lid 4 BW).
  public var claimsCompensation: Bool {
    step == .second && kind == .business && businessCompensation == .claim && costs != nil
  }

  /// The amount the payment block asks for: the outstanding total, plus the compensation where
  /// the letter claims it.
  public var amountDue: Money {
    claimsCompensation ? total + (costs ?? Money(cents: 0, currency: first.currency)) : total
  }

  /// The costs without the VAT added to them (BIK art. 2 lid 3), as the scale gives them.
  public var costsBeforeVAT: Money? {
    guard let costs else { return nil }
    return costsIncludeVAT ? CollectionCosts.withoutVAT(costs) : costs
  }

  /// The VAT added to the costs, when the creditor cannot deduct it.
  public var costsVAT: Money? {
    guard let costs, let before = costsBeforeVAT, costsIncludeVAT else { return nil }
    return costs - before
  }

  /// The betalingskenmerk for the bank's own field: the invoice's, or the one herinner derives
  /// from its number (as `herinner reference` prints and the payment matcher expects). Nil for a
  /// letter over several invoices (one payment carries one kenmerk) or when there is none.
  public var structuredReference: String? {
    guard invoices.count == 1 else { return nil }
    if let r = first.reference { return Betalingskenmerk.isValid(r) ? r : nil }
    return Betalingskenmerk.generate(for: first.number)
  }

  /// What goes in the bank's description field when there is no betalingskenmerk: the invoice
  /// numbers (or the invoice's own reference when it is not a valid kenmerk).
  public var paymentDescription: String? {
    guard structuredReference == nil else { return nil }
    if invoices.count == 1, let r = first.reference, !r.isEmpty { return r }
    return invoices.map(\.number).joined(separator: ", ")
  }

  /// The template this letter uses: `first`, `second-business` or `second-consumer`.
  public var templateName: String {
    switch step {
    case .second: return kind == .consumer ? "second-consumer" : "second-business"
    default: return "first"
    }
  }

  /// "Geachte mevrouw De Vries," / "Geachte heer/mevrouw," / "Dear Ms Carter,".
  public var salutation: String {
    var contact = first.contact?.trimmingSpaces ?? ""
    if language == .en {
      return contact.isEmpty ? "Dear Sir or Madam," : "Dear \(contact),"
    }
    // "Geachte de heer Jansen" is wrong Dutch: the article goes.
    for prefix in ["de heer ", "De heer "] where contact.hasPrefix(prefix) {
      contact = "heer " + contact.dropFirst(prefix.count)
    }
    return contact.isEmpty ? "Geachte heer/mevrouw," : "Geachte \(contact),"
  }

  /// "2026-0111 en 2026-0112" / "2026-0111, 2026-0112 and 2026-0113".
  public var numbersText: String { Self.list(invoices.map(\.number), language) }

  /// "a, b en c" / "a, b and c".
  static func list(_ items: [String], _ language: Language) -> String {
    guard let last = items.last else { return "" }
    guard items.count > 1 else { return last }
    let and = language == .en ? " and " : " en "
    return items.dropLast().joined(separator: ", ") + and + last
  }

  /// A Dutch phone number as an English letter writes it: `020 123 4567` → `+31 20 123 4567`,
  /// `0031 …` → `+31 …`; anything else as given.
  public static func internationalPhone(_ phone: String) -> String {
    let p = phone.trimmingSpaces
    if p.hasPrefix("+") { return p }
    if p.hasPrefix("00") { return "+" + p.dropFirst(2) }
    if p.hasPrefix("0"), p.dropFirst().first?.isNumber == true { return "+31 " + p.dropFirst() }
    return p
  }
}
