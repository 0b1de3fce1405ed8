import ArgumentParser
import CurlIMAP
import HerinnerApp
import HerinnerCore
import HerinnerFiles

/// A command whose body returns its exit status; what it throws reaches `Herinner.main`.
protocol HerinnerCommand: ParsableCommand {
  func execute() throws -> Int32
}

extension HerinnerCommand {
  func run() throws {
    let status = try execute()
    if status != ExitStatus.ok { throw ExitCode(status) }
  }
}

/// The only place that decides exit statuses (README "Exit codes").
enum ExitStatus {
  static let ok: Int32 = 0
  static let attention: Int32 = 1
  static let invalid: Int32 = 2
  static let locked: Int32 = 3
  static let unreachable: Int32 = 4

  /// Errors of herinner's own; anything else (usage errors, `ExitCode`) is ArgumentParser's.
  static func handles(_ error: any Error) -> Bool {
    switch error {
    case is Problems, is Problem, is LedgerError, is AppError, is RunLockHeld, is NothingSent,
      is TransportError, is FileError, is AttachmentError, is IMAPError:
      return true
    default: return false
    }
  }

  static func code(for error: any Error) -> Int32 {
    switch error {
    case is Problems, is Problem, is LedgerError: return invalid
    case let e as AppError: return e.code == .failed ? attention : invalid
    case is RunLockHeld: return locked
    case is NothingSent, is TransportError: return unreachable
    case let e as IMAPError:
      switch e.code {
      case .unreachable, .tls, .login: return unreachable
      case .settings: return invalid
      case .mailbox, .protocol: return attention
      }
    default: return attention
    }
  }

  /// What to print on stderr for `error`: one line per problem, in plain words.
  static func lines(for error: any Error) -> [String] {
    switch error {
    case let p as Problems: return p.all.map(\.description)
    case let e as LedgerError: return [e.message]
    case let e as IMAPError:
      var s = "bounces fetch: \(e.message)"
      if let reply = e.cause?.serverReply, !reply.isEmpty { s += " (the server said: \(reply))" }
      return [s]
    default: return ["\(error)"]
    }
  }

  /// A report's status: 1 when a person is needed.
  static func code(needsAttention: Bool) -> Int32 { needsAttention ? attention : ok }
}
