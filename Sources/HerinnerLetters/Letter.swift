import HerinnerCore

/// One reminder letter: a step for one customer, covering one or more of its invoices.
///
/// Everything here is computed by the core: amounts, deadlines and costs are never typed in a
/// template. Pure.
public struct Letter: Sendable {
  public var step: Step
  public var invoices: [Invoice]
  public var sender: Sender
  /// The day the letter is sent (the run's date).
  public var date: CalendarDate
  /// The payment deadline stated in the letter.
  public var deadline: CalendarDate
  /// The first reminder's date, which the second refers to ("Ondanks onze herinnering van …").
  public var firstSentOn: CalendarDate?
  /// WIK collection costs stated (consumers' 14-day letter; the amount the business letter warns of).
  public var costs: Money?
  public var costsIncludeVAT: Bool
  public var isResend: Bool
  public var termDays: Int

  public init(
    step: Step, invoices: [Invoice], sender: Sender, date: CalendarDate, deadline: CalendarDate,
    firstSentOn: CalendarDate? = nil, costs: Money? = nil, costsIncludeVAT: Bool = false,
    isResend: Bool = false, termDays: Int
  ) {
    precondition(!invoices.isEmpty, "a letter covers at least one invoice")
    self.step = step
    self.invoices = invoices
    self.sender = sender
    self.date = date
    self.deadline = deadline
    self.firstSentOn = firstSentOn
    self.costs = costs
    self.costsIncludeVAT = costsIncludeVAT
    self.isResend = isResend
    self.termDays = termDays
  }

  /// Builds the letter the policy prescribes for `step` sent on `date`: the deadline, and for a
  /// consumer's `second` the WIK costs over the summed principal (art. 6:96 lid 6 and 7 BW).
  public static func make(
    step: Step, invoices: [Invoice], sender: Sender, policy: Policy, date: CalendarDate,
    firstSentOn: CalendarDate?, isResend: Bool = false, costsOverride: Money? = nil
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
      firstSentOn: firstSentOn, costs: costs, costsIncludeVAT: policy.collectionCostsIncludeVAT,
      isResend: isResend, termDays: term)
  }

  public var first: Invoice { invoices[0] }
  public var language: Language { first.language }
  public var kind: CustomerKind { first.kind }
  public var total: Money {
    invoices.map(\.outstanding).reduce(Money(cents: 0, currency: first.currency), +)
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
  public var numbersText: String {
    let n = invoices.map(\.number)
    guard n.count > 1 else { return n[0] }
    let and = language == .en ? " and " : " en "
    return n.dropLast().joined(separator: ", ") + and + n.last!
  }
}
