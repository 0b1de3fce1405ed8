import Foundation
import HerinnerCore

/// The statutory interest table as a user-maintained CSV (`from;consumer;commercial`, percent
/// per year, decimal comma or point, `#` comments), so a new rate needs no rebuild.
public enum InterestRateFile {
  public static func load(path: String) throws(Problems) -> InterestTable {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Problems([Problem(file: path, message: "cannot read the interest table")])
    }
    return try parse(String(decoding: data, as: UTF8.self), file: path)
  }

  public static func parse(_ text: String, file: String) throws(Problems) -> InterestTable {
    var rates: [InterestTable.Rate] = []
    var problems: [Problem] = []
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") || line.lowercased().hasPrefix("from") { continue }
      let f = line.split(separator: ";").map {
        $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
      }
      guard f.count == 3, let d = CalendarDate(parsing: f[0]), let c = Decimal(string: f[1]),
        let b = Decimal(string: f[2])
      else {
        problems.append(
          Problem(file: file, line: i + 1, message: "expected from;consumer;commercial"))
        continue
      }
      rates.append(.init(from: d, consumer: c, commercial: b))
    }
    if rates.isEmpty && problems.isEmpty {
      problems.append(Problem(file: file, message: "no rates in the interest table"))
    }
    if !problems.isEmpty { throw Problems(problems) }
    return InterestTable(rates: rates)
  }
}
