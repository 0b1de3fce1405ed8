/// One consumer's open claims, the 14-day letters sent for them and the payments received: what
/// is owed on a given day, claim by claim (art. 6:96 lid 6 and 7, 6:43 and 6:44 BW). Pure.
///
/// The rules it keeps:
/// - Collection costs are owed for a claim only once the term of the latest 14-day letter that
///   lists it has passed without the claim being paid off (lid 6). A later letter that lists the
///   claim again replaces the earlier one: its term and costs are the ones that count.
/// - The costs are computed once, by the scale over the summed principal of the claims they are
///   owed for (lid 7), never more than the letters stated, and never more in total than the scale
///   over every claim they were ever owed for; a claim that is paid off leaves the sum, and the
///   costs are recomputed over the rest.
/// - The costs are spread over the claims in proportion to their principal, so that rows of a
///   dossier add up to the lawful amount and never carry the whole amount each.
/// - Where costs are owed, a payment on a claim goes to its costs, then its interest, then its
///   principal (art. 6:44 BW); before that, to its principal. A payment that names no claim goes
///   to the oldest claim due (art. 6:43 lid 2 BW).
/// - Interest is the wettelijke rente (art. 6:119 BW) from the day after the due date, on each
///   part of the principal until the day it was paid.
public struct ConsumerClaims: Sendable, Hashable {
  public struct Claim: Sendable, Hashable {
    public var number: String
    public var due: CalendarDate
    /// The principal (hoofdsom): the invoice amount before any payment.
    public var principal: Money

    public init(number: String, due: CalendarDate, principal: Money) {
      self.number = number
      self.due = due
      self.principal = principal
    }

    /// The invoice as a claim: its amount (incl. VAT) is the principal.
    public init(_ invoice: Invoice) {
      self.init(number: invoice.number, due: invoice.due, principal: invoice.amount)
    }
  }

  /// A 14-day letter that was sent (and not bounced): the claims it listed and the costs it stated.
  public struct Letter: Sendable, Hashable {
    public var date: CalendarDate
    public var deadline: CalendarDate
    public var claims: [String]
    public var costs: Money

    public init(date: CalendarDate, deadline: CalendarDate, claims: [String], costs: Money) {
      self.date = date
      self.deadline = deadline
      self.claims = claims
      self.costs = costs
    }
  }

  public struct Payment: Sendable, Hashable {
    public var date: CalendarDate
    public var amount: Money
    /// The claim it was paid on; nil: to the oldest claim due.
    public var claim: String?

    public init(date: CalendarDate, amount: Money, claim: String? = nil) {
      self.date = date
      self.amount = amount
      self.claim = claim
    }

    /// What the bookkeeping already records as paid on `invoice` (its `paid`), whose day is not
    /// known: counted on the due date, so it bears no interest and never goes to costs. Nil when
    /// nothing was paid.
    public static func recorded(in invoice: Invoice) -> Payment? {
      guard invoice.paid.cents > 0 else { return nil }
      return Payment(date: invoice.due, amount: invoice.paid, claim: invoice.number)
    }
  }

  /// What one claim stands at on the day asked.
  public struct Row: Sendable, Hashable {
    public var number: String
    /// Principal still open.
    public var principal: Money
    /// This claim's share of the costs, still unpaid.
    public var costs: Money
    /// Costs already paid on this claim.
    public var costsPaid: Money
    /// Interest to date, not yet paid.
    public var interest: Money
    /// The term of the latest 14-day letter listing it has passed without payment.
    public var costsOwed: Bool
    public var total: Money { principal + costs + interest }
  }

  public struct Position: Sendable, Hashable {
    public var date: CalendarDate
    /// Every claim, in due-date order (paid-off claims with zero amounts).
    public var rows: [Row]
    /// The costs still owed: the rows' costs added up.
    public var costs: Money
    /// Paid beyond every claim it could go to: a person decides (refund or credit).
    public var unapplied: Money
  }

  public enum ClaimsError: Error, Sendable, Hashable {
    /// Claims or payments in more than one currency: never added together.
    case mixedCurrency([String])
  }

  public var claims: [Claim]
  public var letters: [Letter]
  public var payments: [Payment]
  /// The creditor adds VAT to the costs (BIK art. 2 lid 3).
  public var costsIncludeVAT: Bool

  public init(
    claims: [Claim], letters: [Letter] = [], payments: [Payment] = [], costsIncludeVAT: Bool = false
  ) {
    self.claims = claims.sorted { ($0.due, $0.number) < ($1.due, $1.number) }
    self.letters = letters
    self.payments = payments
    self.costsIncludeVAT = costsIncludeVAT
  }

  public var currency: String { claims.first?.principal.currency ?? "EUR" }

  /// Where every claim stands on `date`: payments booked and letters sent up to and including
  /// that day; costs owed where a letter's deadline lies before it.
  public func position(on date: CalendarDate, rates: InterestTable) throws(ClaimsError)
    -> Position
  {
    let s = try simulate(through: date, rates: rates)
    let shares = s.shares(on: date)
    var rows: [Row] = []
    for (i, c) in claims.enumerated() {
      let share = shares[i] ?? 0
      rows.append(
        Row(
          number: c.number, principal: money(s.open[i]),
          costs: money(max(0, share - s.costsPaid[i])), costsPaid: money(s.costsPaid[i]),
          // A claim paid off is settled: no interest is pursued on it.
          interest: money(s.open[i] > 0 ? s.principalInterestOwed(i, through: date) : 0),
          costsOwed: shares[i] != nil))
    }
    return Position(
      date: date, rows: rows, costs: money(rows.map(\.costs.cents).reduce(0, +)),
      unapplied: money(s.unapplied))
  }

  /// The claims a 14-day letter sent on `date` must list: every claim past its due date and open
  /// (art. 6:96 lid 7 BW), oldest due first.
  public func claimsForLetter(on date: CalendarDate, rates: InterestTable) throws(ClaimsError)
    -> [String]
  {
    let s = try simulate(through: date, rates: rates)
    return claims.indices.filter { s.open[$0] > 0 && claims[$0].due < date }.map {
      claims[$0].number
    }
  }

  /// The costs a 14-day letter sent on `date` for `numbers` states: the scale over their summed
  /// open principal, less costs already paid on them, so that letters and payments together never
  /// exceed the scale.
  public func costsToState(for numbers: [String], on date: CalendarDate, rates: InterestTable)
    throws(ClaimsError) -> Money
  {
    let s = try simulate(through: date, rates: rates)
    let chosen = claims.indices.filter { numbers.contains(claims[$0].number) && s.open[$0] > 0 }
    let principal = Self.sum(chosen.map { s.open[$0] })
    let paid = chosen.map { s.costsPaid[$0] }.reduce(0, +)
    let scale = CollectionCosts.wik(principal: money(principal), addVAT: costsIncludeVAT)
    return money(max(0, scale.cents - paid))
  }

  /// The dates of the letters already sent (on or before `date`) that a new letter listing
  /// `numbers` replaces: those that listed any of them.
  public func replacedLetters(by numbers: [String], on date: CalendarDate) -> [CalendarDate] {
    let wanted = Set(numbers)
    let dates = letters.filter { $0.date <= date && !wanted.isDisjoint(with: $0.claims) }.map(
      \.date)
    return Array(Set(dates)).sorted()
  }

  func money(_ cents: Int64) -> Money { Money(cents: cents, currency: currency) }

  /// Principals added without a trap on absurd amounts: past Int64 the scale's maximum applies
  /// long before.
  static func sum(_ values: [Int64]) -> Int64 {
    var total: Int64 = 0
    for v in values {
      let (t, overflow) = total.addingReportingOverflow(v)
      total = overflow ? Int64.max : t
    }
    return total
  }

  // MARK: - The simulation

  /// The claims' state, advanced through the events (payments, letters) day by day.
  struct State {
    let model: ConsumerClaims
    let rates: InterestTable
    var open: [Int64]
    /// Principal paid, as (day, amount): each part stops bearing interest on its day.
    var tranches: [[(CalendarDate, Int64)]]
    var interestPaid: [Int64]
    var costsPaid: [Int64]
    /// The letter each claim is governed by (the latest that listed it), and the principal open
    /// at the end of that letter's term: what the costs are owed over.
    var governing: [Int?]
    var base: [Int64]
    var baseFixed: [Bool]
    /// Costs once owed for claims since paid off: they bound the total with the others.
    var everOwed: Set<Int> = []
    var unapplied: Int64 = 0

    init(_ model: ConsumerClaims, rates: InterestTable) {
      self.model = model
      self.rates = rates
      let n = model.claims.count
      open = model.claims.map { max(0, $0.principal.cents) }
      tranches = Array(repeating: [], count: n)
      interestPaid = Array(repeating: 0, count: n)
      costsPaid = Array(repeating: 0, count: n)
      governing = Array(repeating: nil, count: n)
      base = open
      baseFixed = Array(repeating: false, count: n)
    }

    /// At the start of `day`: claims whose letter's term ended before it owe costs over the
    /// principal then open (a part payment within the term lowers them).
    mutating func fixBases(on day: CalendarDate) {
      for i in model.claims.indices where !baseFixed[i] {
        guard let g = governing[i], model.letters[g].deadline < day else { continue }
        base[i] = open[i]
        baseFixed[i] = true
      }
    }

    /// Claims whose costs are owed on `day`: the deadline of their governing letter lies before
    /// it and they are still open.
    func owed(_ i: Int, on day: CalendarDate) -> Bool {
      guard let g = governing[i], open[i] > 0 else { return false }
      return model.letters[g].deadline < day
    }

    /// Each owing claim's share of the lawful costs on `day` (absent: no costs owed for it).
    func shares(on day: CalendarDate) -> [Int: Int64] {
      let owing = model.claims.indices.filter { owed($0, on: day) }
      guard !owing.isEmpty else { return [:] }
      let c = model.currency
      let vat = model.costsIncludeVAT
      var lawful = CollectionCosts.wik(
        principal: Money(cents: ConsumerClaims.sum(owing.map { base[$0] }), currency: c),
        addVAT: vat
      ).cents
      // Never more than the letters stated.
      let stated = Set(owing.compactMap { governing[$0] }).map { model.letters[$0].costs.cents }
      lawful = min(lawful, ConsumerClaims.sum(stated))
      // Never more, with what was paid on claims since paid off, than the scale over them all.
      let gone = everOwed.filter { open[$0] == 0 }
      if !gone.isEmpty {
        let all = CollectionCosts.wik(
          principal: Money(
            cents: ConsumerClaims.sum((owing + gone.sorted()).map { base[$0] }), currency: c),
          addVAT: vat
        ).cents
        lawful = min(lawful, max(0, all - gone.map { costsPaid[$0] }.reduce(0, +)))
      }
      let split = CollectionCosts.allocate(
        Money(cents: lawful, currency: c), proportionalTo: owing.map { base[$0] })
      var out: [Int: Int64] = [:]
      for (k, i) in owing.enumerated() { out[i] = split[k].cents }
      return out
    }

    /// Interest on claim `i` through `day`, less what was paid of it.
    func principalInterestOwed(_ i: Int, through day: CalendarDate) -> Int64 {
      let claim = model.claims[i]
      var total: Int64 = 0
      for (d, amount) in tranches[i] {
        total += interest(amount, claim.due, min(d, day))
      }
      total += interest(open[i], claim.due, day)
      return max(0, total - interestPaid[i])
    }

    func interest(_ cents: Int64, _ due: CalendarDate, _ through: CalendarDate) -> Int64 {
      rates.interest(
        principal: Money(cents: cents, currency: model.currency), due: due, through: through,
        kind: .consumer
      ).cents
    }

    mutating func payPrincipal(_ i: Int, _ amount: Int64, on day: CalendarDate) -> Int64 {
      let p = min(amount, open[i])
      guard p > 0 else { return amount }
      open[i] -= p
      tranches[i].append((day, p))
      return amount - p
    }

    /// Applies `amount` to claim `i` on `day`; returns what is left.
    mutating func pay(_ i: Int, _ amount: Int64, on day: CalendarDate) -> Int64 {
      var left = amount
      if owed(i, on: day) {
        everOwed.insert(i)
        let share = shares(on: day)[i] ?? 0
        let c = min(left, max(0, share - costsPaid[i]))
        costsPaid[i] += c
        left -= c
        let r = min(left, principalInterestOwed(i, through: day))
        interestPaid[i] += r
        left -= r
      }
      return payPrincipal(i, left, on: day)
    }

    /// After a claim is paid off the costs are recomputed: costs paid beyond a claim's new share
    /// go to its interest, then its principal.
    mutating func rebalance(on day: CalendarDate) {
      for _ in 0...model.claims.count {
        let shares = shares(on: day)
        var moved = false
        for (i, share) in shares where costsPaid[i] > share {
          let excess = costsPaid[i] - share
          costsPaid[i] = share
          let r = min(excess, principalInterestOwed(i, through: day))
          interestPaid[i] += r
          unapplied += payPrincipal(i, excess - r, on: day)
          moved = true
        }
        if !moved { return }
      }
    }
  }

  func simulate(through date: CalendarDate, rates: InterestTable) throws(ClaimsError) -> State {
    let currencies = Set(claims.map(\.principal.currency) + payments.map(\.amount.currency))
    guard currencies.count <= 1 else { throw .mixedCurrency(currencies.sorted()) }
    var s = State(self, rates: rates)
    let index = Dictionary(
      claims.enumerated().map { ($1.number, $0) }, uniquingKeysWith: { a, _ in a })
    let ends = letters.map { $0.deadline.adding(days: 1) }
    let days = Set(payments.map(\.date) + letters.map(\.date) + ends + [date]).filter {
      $0 <= date
    }.sorted()
    for day in days {
      s.fixBases(on: day)
      // A payment booked on a letter's day was imported before that night's letter was made.
      for p in payments where p.date == day {
        var left = max(0, p.amount.cents)
        if let n = p.claim {
          if let i = index[n] { left = s.pay(i, left, on: day) }
        } else {
          // Art. 6:43 lid 2 BW: first the claims due, oldest first; then the others.
          let due = claims.indices.filter { claims[$0].due < day }
          for i in due + claims.indices.filter({ !due.contains($0) })
          where left > 0 && s.open[i] > 0 {
            left = s.pay(i, left, on: day)
          }
        }
        s.unapplied += left
        s.rebalance(on: day)
      }
      for (g, l) in letters.enumerated() where l.date == day {
        for n in l.claims {
          guard let i = index[n], s.open[i] > 0 else { continue }
          s.governing[i] = g
          s.baseFixed[i] = false
        }
      }
    }
    return s
  }
}

// MARK: - The consumer's 14-day letters, across claims

extension ConsumerClaims {
  /// The consumer a claim belongs to, for the rule that all of a consumer's claims go in one
  /// 14-day letter (art. 6:96 lid 7 BW): the customer, the kind (a business invoice of the same
  /// `customer_id` is not the consumer's claim) and the currency (a letter's sum is in one).
  /// Nil for a business invoice.
  public static func consumerKey(_ inv: Invoice) -> String? {
    guard inv.kind == .consumer else { return nil }
    return inv.customerKey + "|consumer|" + inv.currency
  }

  /// Whether a claim is still open for a letter: open in the bookkeeping, something outstanding
  /// and no hold.
  public static func isOpen(_ inv: Invoice, history: InvoiceHistory?) -> Bool {
    inv.status == .open && inv.outstanding.cents > 0 && history?.hold == nil
  }

  /// One 14-day letter sent to a consumer, as the ledger holds it: the rows of one Message-ID.
  public struct SentLetter: Sendable, Hashable {
    public var messageID: String
    public var date: CalendarDate
    public var deadline: CalendarDate?
    /// The claims with a row of this message.
    public var recorded: [String]
  }

  /// The 14-day letters (`second`, sent, resends included) recorded for `invoices` (one
  /// consumer's), oldest first.
  public static func sentLetters(
    of invoices: [Invoice], histories: [String: InvoiceHistory]
  ) -> [SentLetter] {
    var byID: [String: SentLetter] = [:]
    for inv in invoices {
      for r in histories[inv.number]?.deliveries ?? []
      where r.step == .second && r.state == .sent {
        let id = r.messageID ?? "\(r.date.iso)|\(r.deadline?.iso ?? "")"
        if byID[id] == nil {
          byID[id] = SentLetter(messageID: id, date: r.date, deadline: r.deadline, recorded: [])
        }
        if !(byID[id]?.recorded.contains(inv.number) ?? true) {
          byID[id]?.recorded.append(inv.number)
        }
      }
    }
    return byID.values.sorted { ($0.date, $0.messageID) < ($1.date, $1.messageID) }
  }

  /// The histories with, for each consumer claim still open, the later 14-day letters that
  /// listed it without recording a step for it (a replacing letter lists every open claim an
  /// earlier letter covered, art. 6:96 lid 7 BW), added as a sent resend of `second` with that
  /// letter's date and deadline: so no claim a letter listed moves to `collection` before the
  /// day after that letter's deadline. Pure.
  ///
  /// The letter listed the claim: the claim was covered before it and is open now, so it was
  /// open on the letter's night (payments only lower what is open). Only where letters cover
  /// several claims (`policy.onePerCustomer`): with one letter per invoice, none lists another.
  public static func coveredHistories(
    invoices: [Invoice], histories: [String: InvoiceHistory]
  ) -> [String: InvoiceHistory] {
    var consumers: [String: [Invoice]] = [:]
    for inv in invoices {
      guard let key = consumerKey(inv),
        histories[inv.number]?.deliveries.contains(where: { $0.step == .second }) == true
      else { continue }
      consumers[key, default: []].append(inv)
    }
    var out = histories
    for (_, claims) in consumers where claims.count > 1 {
      let letters = sentLetters(of: claims, histories: histories)
      guard letters.count > 1 else { continue }
      for inv in claims where isOpen(inv, history: histories[inv.number]) {
        var h = out[inv.number] ?? .empty
        guard let covered = h.firstSent(.second) else { continue }
        let later = letters.filter { $0.date > covered.date && !$0.recorded.contains(inv.number) }
        guard !later.isEmpty else { continue }
        for l in later {
          h.deliveries.append(
            DeliveryRecord(
              step: .second, state: .sent, date: l.date, isResend: true, deadline: l.deadline,
              messageID: l.messageID))
        }
        out[inv.number] = h
      }
    }
    return out
  }

  /// The claims a sent 14-day letter listed: those it recorded, and the open claims it covered
  /// again (see `coveredHistories`).
  public static func listed(
    by messageID: String, invoices: [Invoice], covered: [String: InvoiceHistory]
  ) -> [String] {
    invoices.filter { inv in
      covered[inv.number]?.deliveries.contains {
        $0.step == .second && $0.state == .sent && $0.messageID == messageID
      } == true
    }.map(\.number)
  }
}
