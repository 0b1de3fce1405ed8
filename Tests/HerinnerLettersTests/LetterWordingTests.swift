import Foundation
import HerinnerCore
import Testing

@testable import HerinnerLetters

/// The wording rules of issue 15, each checked over letters of every kind and language.
@Suite struct LetterWordingTests {
  /// Every combination of step, kind, language, one or several invoices, VAT and compensation
  /// policy, with and without optional company details.
  static func everyLetter() -> [Letter] {
    var bare = sender
    bare.phone = nil
    bare.bic = nil
    bare.signature = nil
    bare.kvk = nil
    bare.btw = nil
    var out: [Letter] = []
    for language in [Language.nl, .en] {
      for kind in [CustomerKind.business, .consumer] {
        for s in [sender, bare] {
          let one = [sampleInvoice(kind: kind, contact: nil, language: language)]
          let two = [
            sampleInvoice("2026-0043", kind: kind, amount: 99_95, language: language),
            sampleInvoice("2026-0042", kind: kind, paid: 25_000, language: language),
          ]
          for invoices in [one, two] {
            for vat in [false, true] {
              for compensation in BusinessCompensation.allCases {
                var p = Policy()
                p.collectionCostsIncludeVAT = vat
                p.businessCompensation = compensation
                for step in [Step.first, .second] {
                  // Several invoices each with its own reminder; one recent, one long overdue.
                  let own =
                    step == .second && invoices.count > 1 && vat
                    ? ["2026-0042": d("2026-11-17"), "2026-0043": d("2026-11-20")] : [:]
                  out.append(
                    .make(
                      step: step, invoices: invoices, sender: s, policy: p,
                      date: d(vat ? "2027-01-15" : "2026-12-01"),
                      firstSentOn: step == .second && own.isEmpty ? d("2026-11-17") : nil,
                      remindedOn: own,
                      replaces: kind == .consumer && vat ? [d("2026-11-03")] : []))
                }
              }
            }
          }
        }
      }
    }
    return out
  }

  @Test func noHolesDoubledPunctuationOrStrayBlanks() throws {
    let t = try templates()
    for l in Self.everyLetter() {
      let r = try t.render(l)
      let letterKind = "\(l.language) \(l.kind) \(l.templateName) \(l.invoices.count)"
      for bad in [", ,", " ,", " .", "..", "(,", "()", ",.", "\n\n\n", " \n"] {
        #expect(!r.text.contains(bad), "\(letterKind): \(bad.debugDescription)")
      }
      // Two spaces only where a label's value is aligned ("Bedrag:           € 12,00").
      for line in r.text.split(separator: "\n") {
        var rest = Substring(line)
        if let colon = rest.range(of: ":  ") {
          rest = rest[colon.upperBound...].drop { $0 == " " }
        }
        #expect(!rest.contains("  "), "\(letterKind): \(line)")
      }
      #expect(!r.subject.isEmpty)
    }
  }

  @Test func crossingSentenceInEveryLetter() throws {
    let t = try templates()
    for l in Self.everyLetter() {
      let text = try t.render(l).text
      let sentence =
        l.language == .nl
        ? "Heeft u inmiddels betaald? Dan kunt u deze herinnering als niet verzonden beschouwen."
        : "If you have already paid, please disregard this"
      #expect(text.contains(sentence), "\(l.language) \(l.templateName)")
    }
  }

  /// The 14-day letter: the Hoge Raad's term wording, no costs when paid in time, interest from
  /// the day after the due date, "uit handen geven"; never "overdragen" or "vanaf de vervaldatum".
  @Test func fourteenDayLetterWording() throws {
    let t = try templates()
    for l in Self.everyLetter() where l.templateName == "second-consumer" && l.language == .nl {
      let text = try t.render(l).text
      for expected in [
        "binnen veertien dagen vanaf de dag nadat u deze e-mail heeft ontvangen",
        "Betaalt u binnen deze termijn, dan bent u geen incassokosten verschuldigd.",
        "vanaf de dag na de vervaldatum", "uit handen aan een incassobureau",
      ] {
        #expect(text.contains(expected), "\(expected)")
      }
    }
    for l in Self.everyLetter() where l.language == .nl {
      let text = try t.render(l).text
      for wrong in [
        "overdragen", "dragen wij", "vanaf de vervaldatum", "Dat voorkomen wij liever",
        "Kenmerk:  ",
      ] {
        #expect(!text.contains(wrong), "\(l.templateName): \(wrong)")
      }
    }
  }

  /// VAT on the costs only with the declaration of BIK art. 2 lid 3, and the scale amount
  /// named as the scale amount (€ 40,05 over € 267,00, not € 48,46).
  @Test(arguments: [CustomerKind.business, .consumer])
  func vatOnCostsIsDeclared(_ kind: CustomerKind) throws {
    for vat in [false, true] {
      var p = Policy()
      p.collectionCostsIncludeVAT = vat
      let l = Letter.make(
        step: .second, invoices: [sampleInvoice(kind: kind, amount: 26_700)], sender: sender,
        policy: p, date: d("2026-12-01"), firstSentOn: d("2026-11-17"))
      let text = try templates().render(l).text
      #expect(text.contains("€ 40,05"))
      #expect(text.contains("niet kunnen verrekenen") == vat)
      #expect(text.contains("artikel 2 lid 3") == vat)
      #expect(text.contains("€ 48,46") == vat)
      #expect(text.contains("€ 8,41") == vat)
      #expect(!text.contains("inclusief btw"))
    }
  }

  /// The business letter names the compensation of art. 6:96 lid 4 BW and either claims it
  /// (added to the amount asked) or says it is not charged when paid in time.
  @Test(arguments: [
    (BusinessCompensation.claim, "€ 1.437,50", "U bent ons daarom een vergoeding"),
    (
      .waiveIfPaidInTime, "€ 1.250,00",
      "dan brengen wij deze vergoeding en de rente niet in rekening"
    ),
  ])
  func businessCompensationClaimedOrWaived(
    _ c: BusinessCompensation, _ amount: String, _ sentence: String
  ) throws {
    var p = Policy()
    p.businessCompensation = c
    let l = Letter.make(
      step: .second, invoices: [sampleInvoice()], sender: sender, policy: p,
      date: d("2026-11-23"), firstSentOn: d("2026-11-09"))
    let text = try templates().render(l).text
    #expect(text.contains("Bedrag:           \(amount)\n"))
    #expect(text.contains(sentence))
    #expect(text.contains("artikel 6:96 lid 4 BW"))
    #expect(text.contains("€ 40,00"))
    #expect(text.contains("€ 187,50 volgens de wettelijke staffel"))
    #expect(text.contains("wettelijke handelsrente"))
    #expect(text.contains("vanaf de dag na de vervaldatum"))
  }

  /// The payment block: the betalingskenmerk `herinner reference` prints (the invoice's own
  /// when valid), else the invoice numbers in the description field.
  @Test(arguments: [
    (["2026-0101"], nil as String?, "Betalingskenmerk: 5000000020260101"),
    (["2026-0101"], "5000056789012345", "Betalingskenmerk: 5000056789012345"),
    (["2026-0101"], "KLANT-77", "Omschrijving:     KLANT-77"),
    (["FACTUUR"], nil, "Omschrijving:     FACTUUR"),
    (["2026-0111", "2026-0112"], nil, "Omschrijving:     2026-0111, 2026-0112"),
  ])
  func paymentBlock(_ numbers: [String], _ reference: String?, _ line: String) throws {
    let invoices = numbers.map {
      var i = sampleInvoice($0)
      i.reference = reference
      return i
    }
    let l = Letter.make(
      step: .first, invoices: invoices, sender: sender, policy: Policy(), date: d("2026-12-01"),
      firstSentOn: nil)
    let text = try templates().render(l).text
    #expect(text.contains("\n" + line + "\n"), "\(text)")
    #expect(text.contains("Bedrag:           € "))
    #expect(!text.contains("Kenmerk:"))
    if let r = l.structuredReference { #expect(Betalingskenmerk.isValid(r)) }
  }

  /// The opening follows how long the oldest invoice is overdue.
  @Test(arguments: [
    ("2026-11-17", "Misschien is het u ontgaan", "Our records show that we have not yet"),
    ("2026-12-10", "Misschien is het u ontgaan", "may simply have been overlooked"),
    ("2026-12-11", "inmiddels 31 dagen geleden", "It was due on 10 November 2026, 31 days ago."),
    ("2027-04-13", "inmiddels 154 dagen geleden", "154 days ago"),
  ])
  func openingByDaysOverdue(_ date: String, _ nl: String, _ en: String) throws {
    for (language, expected) in [(Language.nl, nl), (.en, en)] {
      let l = Letter.make(
        step: .first, invoices: [sampleInvoice(language: language)], sender: sender,
        policy: Policy(), date: d(date), firstSentOn: nil)
      let text = try templates().render(l).text
      #expect(text.contains(expected), "\(language) \(date)")
      if l.daysOverdue > 30 {
        #expect(!text.contains("ontgaan") && !text.contains("overlooked"))
      }
    }
  }

  /// Bundled invoices in due-date order, each with its own reminder date.
  @Test func bundledInvoicesInDueDateOrderWithTheirOwnReminders() throws {
    var late = sampleInvoice("2026-0112", kind: .consumer)
    late.due = d("2026-11-20")
    var early = sampleInvoice("2026-0111", kind: .consumer)
    early.due = d("2026-11-01")
    let l = Letter.make(
      step: .second, invoices: [late, early], sender: sender, policy: Policy(),
      date: d("2026-12-01"), firstSentOn: nil,
      remindedOn: ["2026-0111": d("2026-11-08"), "2026-0112": d("2026-11-27")])
    #expect(l.invoices.map(\.number) == ["2026-0111", "2026-0112"])
    #expect(l.firstSentOn == d("2026-11-08"))
    let text = try templates().render(l).text
    let a = try #require(
      text.range(
        of:
          "factuur 2026-0111 van 11 oktober 2026, vervallen op 1 november 2026, "
          + "herinnerd op 8 november 2026"
      ))
    let b = try #require(
      text.range(
        of:
          "factuur 2026-0112 van 11 oktober 2026, vervallen op 20 november 2026, "
          + "herinnerd op 27 november 2026"
      ))
    #expect(a.lowerBound < b.lowerBound)
  }

  /// A 14-day letter that replaces earlier ones says so and names their dates; a first letter
  /// or a business letter never does.
  @Test(arguments: [
    ([] as [String], nil as String?),
    (["2026-11-03"], "Deze aanmaning vervangt onze aanmaning van 3 november 2026."),
    (
      ["2026-11-17", "2026-11-03"],
      "Deze aanmaning vervangt onze aanmaningen van 3 november 2026 en 17 november 2026."
    ),
  ])
  func replacingLetterSaysSo(_ dates: [String], _ sentence: String?) throws {
    let l = Letter.make(
      step: .second, invoices: [sampleInvoice(kind: .consumer)], sender: sender,
      policy: Policy(), date: d("2026-12-01"), firstSentOn: d("2026-11-17"),
      replaces: dates.map(d))
    let text = try templates().render(l).text
    if let sentence {
      #expect(text.contains(sentence))
    } else {
      #expect(!text.contains("vervangt"))
    }
    let business = Letter.make(
      step: .second, invoices: [sampleInvoice()], sender: sender, policy: Policy(),
      date: d("2026-12-01"), firstSentOn: nil, replaces: dates.map(d))
    #expect(business.replaces.isEmpty)
  }

  @Test(arguments: [
    ("020 123 4567", "+31 20 123 4567"), ("06-12345678", "+31 6-12345678"),
    ("0031 20 123 4567", "+31 20 123 4567"), ("+44 20 7946 0000", "+44 20 7946 0000"),
    (" 010 765 4321 ", "+31 10 765 4321"), ("Extern", "Extern"),
  ])
  func englishLettersUseInternationalPhoneNumbers(_ given: String, _ expected: String) {
    #expect(Letter.internationalPhone(given) == expected)
  }

  @Test func englishCompanyDetailsAsAnEnglishBusinessWritesThem() throws {
    let l = Letter.make(
      step: .first, invoices: [sampleInvoice(language: .en)], sender: sender, policy: Policy(),
      date: d("2026-12-01"), firstSentOn: nil)
    let text = try templates().render(l).text
    for expected in [
      "Chamber of Commerce no. 12345678", "VAT no. NL123456789B01", "Phone: +31 20 123 4567",
      "call us on +31 20 123 4567",
    ] {
      #expect(text.contains(expected), "\(expected)")
    }
    for wrong in ["slipped your attention", "020 123 4567", "Chamber of Commerce 1"] {
      #expect(!text.contains(wrong), "\(wrong)")
    }
  }
}
