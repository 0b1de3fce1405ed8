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

  /// The costs over `principal` (the summed principal for several claims on one consumer,
  /// art. 6:96 lid 7 BW). With `addVAT`, 21 % VAT on top (BIK art. 2 lid 3: only for a creditor
  /// who cannot deduct VAT).
  public static func wik(principal: Money, addVAT: Bool = false) -> Money {
    var remaining = max(principal.cents, 0)
    var lower: Int64 = 0
    var total: Int64 = 0  // in hundredths of a cent ×10 to keep the permille exact
    for band in bands where remaining > 0 {
      let width = band.upTo == Int64.max ? remaining : band.upTo - lower
      let part = min(remaining, width)
      total += part * band.permille
      remaining -= part
      lower = band.upTo
    }
    // total is in cents × 1000; round half up to whole cents.
    var cents = (total + 500) / 1000
    cents = min(max(cents, minimum.cents), maximum.cents)
    if addVAT { cents = (cents * 121 + 50) / 100 }
    return Money(cents: cents, currency: principal.currency)
  }
}
