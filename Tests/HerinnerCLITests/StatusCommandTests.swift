import Foundation
import Testing

struct StatusJSON: Decodable {
  var number: String
  var outstanding: String
  var daysOverdue: Int
  var lastStep: String?
  var nextStep: String?
  var nextDate: String?
  var dueToday: String?
  var stopped: String?
}

@Suite struct StatusCommandTests {
  func status(_ ex: ExampleCopy, _ date: String) throws -> [String: StatusJSON] {
    let r = try herinner(["status", "--json", "--config", ex.config, "--date", date], in: ex.path)
    #expect(r.status == 0, "\(r.stderr)")
    let rows = try JSONDecoder().decode([StatusJSON].self, from: Data(r.stdout.utf8))
    return Dictionary(uniqueKeysWithValues: rows.map { ($0.number, $0) })
  }

  /// On Tuesday 1 December 2026 a bookkeeper expects: first reminders for everything a week past
  /// due, nothing for settled invoices, and the stopped ones named with their reason.
  @Test func theExampleAdministrationOnAFixedDate() throws {
    let ex = try ExampleCopy()
    let s = try status(ex, "2026-12-01")
    #expect(s["2026-0103"] == nil)  // paid
    #expect(s["2026-0104"] == nil)  // credited
    #expect(s["2026-0105"]?.stopped == "disputed")
    #expect(s["2026-0106"]?.stopped == "payment-plan")
    #expect(s["2026-0107"]?.stopped == "on-hold")
    #expect(s["2026-0110"]?.stopped == "below-minimum")
    #expect(s["2026-0108"]?.outstanding == "1000.00")
    for n in [
      "2026-0101", "2026-0102", "2026-0108", "2026-0111", "2026-0112", "2026-0113", "2026-0114",
    ] {
      #expect(s[n]?.dueToday == "first", "\(n)")
    }
    #expect(s["2026-0109"]?.dueToday == nil)
    #expect(s["2026-0109"]?.nextStep == "first")
    #expect(s["2026-0109"]?.nextDate == "2026-12-28")  // due 20 Dec + 7 = Sunday 27 Dec → Monday 28th
    #expect(s["2026-0101"]?.daysOverdue == 21)
    // status creates no ledger.
    #expect(!FileManager.default.fileExists(atPath: ex.path + "/Examples/herinner.sqlite"))
  }

  @Test func aLoggedCallShowsInHistoryAndStatusAndComesFromAnotherProcess() throws {
    let ex = try ExampleCopy()
    let c = try herinner(
      ["call", "2026-0101", "--note", "Belt terug", "--config", ex.config, "--date", "2026-12-01"],
      in: ex.path)
    #expect(c.status == 0, "\(c.stderr)")
    let h = try herinner(["history", "2026-0101", "--config", ex.config], in: ex.path)
    #expect(h.stdout.contains("2026-12-01  call  Belt terug"))
    let s = try status(ex, "2026-12-02")
    #expect(s["2026-0101"]?.lastStep == "call")
    let unknown = try herinner(["call", "9999", "--note", "x", "--config", ex.config], in: ex.path)
    #expect(unknown.status == 2)
  }
}
