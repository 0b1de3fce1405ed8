import Foundation
import HerinnerCore

/// The login (RFC 4954 AUTH with PLAIN, RFC 4616, or LOGIN) as a pure state machine, so that a
/// refused login ends with QUIT and its reply is classified like any other. libcurl opens the
/// connection and TLS; this speaks AUTH over it.
public struct SMTPLogin: Sendable {
  public enum Action: Sendable, Equatable {
    /// Write this line (it may hold the password: never log it), then read the next reply.
    case write([UInt8])
    /// Logged in.
    case done
    case refuse(TransportError, then: SMTPConnectionFate)

    public static func == (a: Action, b: Action) -> Bool {
      switch (a, b) {
      case (.write(let x), .write(let y)): return x == y
      case (.done, .done): return true
      case (.refuse(let x, let f), .refuse(let y, let g)):
        return x.code == y.code && x.message == y.message && f == g
      default: return false
      }
    }
  }

  /// What was last written, so which reply comes next.
  enum Step: Sendable, Equatable {
    case ready, plain, plainResponse, loginCommand, loginUser, loginPassword, done
  }

  let username: String
  let password: String
  let mechanisms: Set<String>
  private var step = Step.ready

  public init(username: String, password: String, capabilities: SMTPCapabilities) {
    self.username = username
    self.password = password
    self.mechanisms = capabilities.authMechanisms
  }

  private static func line(_ text: String) -> Action { .write(Array((text + "\r\n").utf8)) }
  private static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

  public mutating func start() -> Action {
    if mechanisms.contains("PLAIN") {
      step = .plain
      // RFC 4616 §2: authorization identity (empty), NUL, user, NUL, password.
      return Self.line("AUTH PLAIN " + Self.base64("\0\(username)\0\(password)"))
    }
    if mechanisms.contains("LOGIN") {
      step = .loginCommand
      return Self.line("AUTH LOGIN")
    }
    step = .done
    let offered =
      mechanisms.isEmpty ? "no login at all" : "only \(mechanisms.sorted().joined(separator: ", "))"
    return .refuse(
      TransportError(
        .login,
        "the server offers \(offered) on this connection, not PLAIN or LOGIN; check smtp.url and "
          + "smtp.security"),
      then: .quit)
  }

  public mutating func replyReceived(_ reply: SMTPReply) -> Action {
    switch (step, reply.code) {
    case (.plain, 235), (.plainResponse, 235), (.loginPassword, 235):
      step = .done
      return .done
    case (.plain, 334):
      // A server that asks again instead of taking the initial response (RFC 4954 §4).
      step = .plainResponse
      return Self.line(Self.base64("\0\(username)\0\(password)"))
    case (.loginCommand, 334):
      step = .loginUser
      return Self.line(Self.base64(username))
    case (.loginUser, 334):
      step = .loginPassword
      return Self.line(Self.base64(password))
    default:
      break
    }
    step = .done
    if reply.isTransient {
      return .refuse(
        TransportError(
          .unavailable, "the server cannot check the login now (\(reply)); try again later",
          cause: reply),
        then: reply.code == 421 ? .close : .quit)
    }
    if reply.isPermanent {
      return .refuse(
        TransportError(
          .login,
          "the server refused the login for \(username) (\(reply)); check smtp.username and the "
            + "password",
          cause: reply),
        then: .quit)
    }
    return .refuse(
      TransportError(.protocol, "the server answered the login with \(reply)", cause: reply),
      then: .close)
  }

  public mutating func malformedReply(_ line: String) -> Action {
    step = .done
    return .refuse(
      TransportError(.protocol, "the server answered the login with \"\(line)\", not SMTP"),
      then: .close)
  }

  public mutating func connectionLost(_ why: String) -> Action {
    step = .done
    return .refuse(
      TransportError(.unavailable, "the server closed the connection during the login (\(why))"),
      then: .close)
  }
}
