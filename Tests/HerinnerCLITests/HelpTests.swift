import Foundation
import Testing

/// The help texts compared whole, as ArgumentParser's own examples test theirs: a hard line
/// break in mid-sentence or a vague value name shows up as a diff.
@Suite struct HelpTests {
  @Test func rootHelp() throws {
    let r = try herinner(["--help"])
    #expect(r.status == 0)
    #expect(trailingNewlinesDropped(r.stdout) == expectedRoot)
  }

  @Test func sendHelp() throws {
    let r = try herinner(["send", "--help"])
    #expect(r.status == 0)
    #expect(trailingNewlinesDropped(r.stdout) == expectedSend)
  }

  @Test func everyCommandHasHelpThatNamesItsArguments() throws {
    for (command, needle) in [
      ("resend", "<number>"), ("resolve", "--not-sent"), ("history", "<number>"),
      ("payments", "import"), ("status", "--json"), ("check", "exit 0"),
    ] {
      let r = try herinner([command, "--help"])
      #expect(r.status == 0, "\(command)")
      #expect(r.stdout.contains(needle), "\(command) --help names \(needle)")
    }
  }

  @Test func aDateThatIsNoDateIsAUsageError() throws {
    let r = try herinner(["status", "--date", "2026-02-30"])
    #expect(r.status == 64)
    #expect(r.stderr.contains("--date"))
    #expect(r.stdout.isEmpty)
  }
}

func trailingNewlinesDropped(_ s: String) -> String {
  var s = s
  while s.hasSuffix("\n") { s.removeLast() }
  return s
}

let expectedRoot = """
    OVERVIEW: Sends Dutch payment reminders along the escalation ladder, and
    records every one.

    Exit codes:
      0   all done
      1   it ran, but something needs attention (stderr, herinner status)
      2   invalid config, template or input file, or a refused command
      3   another send holds the lock
      4   mail server unreachable, TLS or login failed, or sender refused
      64  usage error

    USAGE: herinner <subcommand>

    OPTIONS:
      --version               Show the version.
      -h, --help              Show help information.

    SUBCOMMANDS:
      send                    Renders, sends and records every due first and second
                              reminder (the nightly batch).
      resend                  Sends an invoice's latest (or the named) reminder
                              again now: re-rendered for today, threaded to the
                              original, recorded as a resend.
      resolve                 Records a person's verdict on an unknown delivery
                              (--sent: it arrived; --not-sent: send it again), or
                              on a rejected or bounced one (--not-sent, after the
                              address was corrected).
      check                   Validates config, templates, invoice source and
                              attachments; exit 0 when all is well, else 2.
      status                  Shows every unsettled invoice: outstanding, days
                              overdue, last and next step, or why it is stopped.
      export                  Writes dossiers of the invoices ready for collection:
                              a CSV plus the archived reminders and the invoice PDF.
      payments                Bank statements: import them, list what did not
                              match, settle those by hand.
      reference               Prints the invoice's betalingskenmerk (16 digits,
                              mod-11 check digit) to print on the invoice.
      calls                   Lists the invoices to phone about, with phone numbers
                              and what was sent so far.
      call                    Logs a phone call about an invoice.
      history                 Shows every recorded step of one invoice: sends with
                              server replies and Message-IDs, calls, resends,
                              archive paths.
      bounces                 Reads returned mail (delivery reports, auto-replies)
                              and ties it to the reminders.

      See 'herinner help <subcommand>' for detailed help.
    """

let expectedSend = """
    OVERVIEW: Renders, sends and records every due first and second reminder (the
    nightly batch).

    USAGE: herinner send [--config <config>] [--date <yyyy-mm-dd>] [--dry-run] [--eml] [--invoice <number> ...] [--limit <count>] [--json]

    OPTIONS:
      --config <config>       The config file. (default: herinner.json)
      --date <yyyy-mm-dd>     Run as if today were this date (YYYY-MM-DD), in the
                              configured time zone.
      --dry-run               Print the messages that would be sent; send nothing,
                              write nothing.
      --eml                   With --dry-run: print the exact bytes as an mbox
                              (mboxrd); the summary goes to stderr.
      --invoice <number>      Only this invoice (repeatable).
      --limit <count>         At most this many messages.
      --json                  Print the summary as JSON.
      --version               Show the version.
      -h, --help              Show help information.
    """
