/// Extrajudicial collection costs by the WIK scale.
///
/// Source: art. 6:96 BW and Besluit vergoeding voor buitengerechtelijke incassokosten (BIK),
/// Stb. 2012, 141, art. 2: 15 % of the first € 2.500, 10 % of the next € 2.500, 5 % of the next
/// € 5.000, 1 % of the next € 190.000, 0,5 % above € 200.000; at least € 40, at most € 6.775.
/// Pure and exact in cents.
public enum CollectionCosts {
  /// (upper bound of the band in cents, rate in tenths of a percent)
  static let bands: [(upTo: Int64, permille: Int64)] = [
    (250_000, 150), (500_000, 100), (1_000_000, 50), (20_000_000, 10), (Int64.max, 5),
  ]
  public static let minimum = Money(cents: 4_000)
  public static let maximum = Money(cents: 677_500)
  /// The VAT rate a creditor who cannot deduct VAT adds (BIK art. 2 lid 3), in percent.
  public static let vatPercent: Int64 = 21

  /// The costs by the scale over `principal` (the summed principal for several claims on one
  /// consumer, art. 6:96 lid 7 BW), without VAT.
  public static func scale(principal: Money) -> Money {
    // From € 1.000.000 the maximum applies (€ 2.775 at € 200.000 plus 0,5 % of € 800.000);
    // returning it there also keeps the products below far from overflow.
    guard principal.cents < 100_000_000 else {
      return Money(cents: maximum.cents, currency: principal.currency)
    }
    var remaining = max(principal.cents, 0)
    var lower: Int64 = 0
    var total: Int64 = 0  // in cents × 1000, to keep the permille exact
    for band in bands where remaining > 0 {
      let width = band.upTo == Int64.max ? remaining : band.upTo - lower
      let part = min(remaining, width)
      total += part * band.permille
      remaining -= part
      lower = band.upTo
    }
    var cents = (total + 500) / 1000
    cents = min(max(cents, minimum.cents), maximum.cents)
    return Money(cents: cents, currency: principal.currency)
  }

  /// The costs over `principal`; with `addVAT`, 21 % VAT on top (BIK art. 2 lid 3: only for a
  /// creditor who cannot deduct VAT).
  public static func wik(principal: Money, addVAT: Bool = false) -> Money {
    let costs = scale(principal: principal)
    return addVAT ? withVAT(costs) : costs
  }

  /// `costs` raised by 21 % VAT, rounded half up to the cent.
  public static func withVAT(_ costs: Money) -> Money {
    Money(cents: (costs.cents * (100 + vatPercent) + 50) / 100, currency: costs.currency)
  }

  /// The part of `stated` (costs with VAT added) that is the costs themselves. Exact for every
  /// amount `withVAT` gives: a step of 1,21 cent per cent leaves no two amounts on one result.
  public static func withoutVAT(_ stated: Money) -> Money {
    let c = stated.cents
    let base = (c * 100 * 2 + (100 + vatPercent)) / ((100 + vatPercent) * 2)
    return Money(cents: base, currency: stated.currency)
  }

  /// Splits `total` over parts in proportion to `weights`, in whole cents that add up to `total`
  /// exactly (largest remainder; ties to the earlier part). A dossier row then carries its share,
  /// never the whole amount. All weights zero: an even split.
  public static func allocate(_ total: Money, proportionalTo weights: [Int64]) -> [Money] {
    guard !weights.isEmpty else { return [] }
    var w = weights.map { max($0, 0) }
    var sum: Int64 = 0
    while true {
      var overflow = false
      sum = 0
      for x in w {
        let (s, o) = sum.addingReportingOverflow(x)
        sum = s
        overflow = overflow || o
      }
      if !overflow { break }
      // Absurdly large weights: the proportions survive a common scaling down.
      w = w.map { $0 >> 20 }
    }
    let t = max(total.cents, 0)
    var shares: [Int64]
    var remainders: [(Int, Int64)]
    if sum == 0 {
      shares = w.map { _ in t / Int64(w.count) }
      remainders = w.indices.map { ($0, 0) }
    } else {
      shares = w.map { portion(t, $0, sum).0 }
      remainders = w.indices.map { ($0, portion(t, w[$0], sum).1) }
    }
    var left = t - shares.reduce(0, +)
    for (i, _) in remainders.sorted(by: { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) })
    where left > 0 {
      shares[i] += 1
      left -= 1
    }
    return shares.map { Money(cents: $0, currency: total.currency) }
  }

  /// (t × w) / sum as quotient and remainder, in full width: no overflow while w ≤ sum.
  static func portion(_ t: Int64, _ w: Int64, _ sum: Int64) -> (Int64, Int64) {
    sum.dividingFullWidth(t.multipliedFullWidth(by: w))
  }
}
