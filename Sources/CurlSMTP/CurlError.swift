import CCurl
import HerinnerCore

/// A libcurl failure, by name (e.g. CURLE_PEER_FAILED_VERIFICATION), with libcurl's own text
/// and the server's last reply: the cause under a `TransportError`.
public struct CurlError: Error, Sendable, CustomStringConvertible {
  public var code: UInt32
  public var name: String
  /// libcurl's error buffer, else its text for the code.
  public var detail: String
  public var reply: SMTPReply?

  init(_ rc: CURLcode, detail: String, reply: SMTPReply? = nil) {
    code = rc.rawValue
    name = Self.name(of: rc)
    self.detail = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
    self.reply = reply
  }

  public var description: String {
    "\(name): \(detail)" + (reply.map { "; the server said \($0)" } ?? "")
  }

  static func name(of rc: CURLcode) -> String {
    switch rc {
    case CURLE_OK: "CURLE_OK"
    case CURLE_UNSUPPORTED_PROTOCOL: "CURLE_UNSUPPORTED_PROTOCOL"
    case CURLE_URL_MALFORMAT: "CURLE_URL_MALFORMAT"
    case CURLE_COULDNT_RESOLVE_HOST: "CURLE_COULDNT_RESOLVE_HOST"
    case CURLE_COULDNT_CONNECT: "CURLE_COULDNT_CONNECT"
    case CURLE_WEIRD_SERVER_REPLY: "CURLE_WEIRD_SERVER_REPLY"
    case CURLE_OPERATION_TIMEDOUT: "CURLE_OPERATION_TIMEDOUT"
    case CURLE_GOT_NOTHING: "CURLE_GOT_NOTHING"
    case CURLE_SEND_ERROR: "CURLE_SEND_ERROR"
    case CURLE_RECV_ERROR: "CURLE_RECV_ERROR"
    case CURLE_AGAIN: "CURLE_AGAIN"
    case CURLE_SSL_CONNECT_ERROR: "CURLE_SSL_CONNECT_ERROR"
    case CURLE_PEER_FAILED_VERIFICATION: "CURLE_PEER_FAILED_VERIFICATION"
    case CURLE_SSL_CERTPROBLEM: "CURLE_SSL_CERTPROBLEM"
    case CURLE_SSL_CIPHER: "CURLE_SSL_CIPHER"
    case CURLE_SSL_CACERT_BADFILE: "CURLE_SSL_CACERT_BADFILE"
    case CURLE_SSL_CRL_BADFILE: "CURLE_SSL_CRL_BADFILE"
    case CURLE_SSL_ISSUER_ERROR: "CURLE_SSL_ISSUER_ERROR"
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH: "CURLE_SSL_PINNEDPUBKEYNOTMATCH"
    case CURLE_SSL_INVALIDCERTSTATUS: "CURLE_SSL_INVALIDCERTSTATUS"
    case CURLE_SSL_SHUTDOWN_FAILED: "CURLE_SSL_SHUTDOWN_FAILED"
    case CURLE_SSL_ENGINE_NOTFOUND: "CURLE_SSL_ENGINE_NOTFOUND"
    case CURLE_SSL_ENGINE_SETFAILED: "CURLE_SSL_ENGINE_SETFAILED"
    case CURLE_SSL_ENGINE_INITFAILED: "CURLE_SSL_ENGINE_INITFAILED"
    case CURLE_USE_SSL_FAILED: "CURLE_USE_SSL_FAILED"
    case CURLE_LOGIN_DENIED: "CURLE_LOGIN_DENIED"
    case CURLE_REMOTE_ACCESS_DENIED: "CURLE_REMOTE_ACCESS_DENIED"
    case CURLE_OUT_OF_MEMORY: "CURLE_OUT_OF_MEMORY"
    case CURLE_FAILED_INIT: "CURLE_FAILED_INIT"
    case CURLE_BAD_FUNCTION_ARGUMENT: "CURLE_BAD_FUNCTION_ARGUMENT"
    case CURLE_UNKNOWN_OPTION: "CURLE_UNKNOWN_OPTION"
    default: "CURLcode \(rc.rawValue)"
    }
  }
}

/// OpenSSL's certificate verification results (CURLINFO_SSL_VERIFYRESULT), as named in
/// openssl/x509_vfy.h; libssl-dev is not a build dependency, so the values are here.
enum X509Verify {
  static let ok = 0
  static let unspecified = 1
  static let unableToGetIssuerCert = 2
  static let certNotYetValid = 9
  static let certHasExpired = 10
  static let depthZeroSelfSignedCert = 18
  static let selfSignedCertInChain = 19
  static let unableToGetIssuerCertLocally = 20
  static let unableToVerifyLeafSignature = 21
  static let certRevoked = 23
  static let hostnameMismatch = 62
  static let ipAddressMismatch = 64
}

/// What libcurl reported when it could not open the session (connect, TLS, EHLO), all the
/// inputs of the error text.
struct OpeningFailure: Sendable {
  var rc: CURLcode
  var detail: String
  /// CURLINFO_RESPONSE_CODE: the server's last reply code, 0 when it said nothing.
  var responseCode: Int
  /// CURLINFO_SSL_VERIFYRESULT.
  var verifyResult: Int
  /// The server's last reply during the opening, if it could be read.
  var reply: SMTPReply?
}

extension TransportError {
  /// The operator's message for a session that could not be opened. Pure.
  static func opening(_ f: OpeningFailure, settings: SMTPSettings) -> TransportError {
    let server = "\(settings.host):\(settings.port)"
    let cause = CurlError(f.rc, detail: f.detail, reply: f.reply)
    func error(_ code: Code, _ message: String) -> TransportError {
      TransportError(code, message, cause: cause)
    }
    let said = f.reply.map { " (\($0))" } ?? (f.responseCode > 0 ? " (\(f.responseCode))" : "")
    switch f.rc {
    case CURLE_COULDNT_RESOLVE_HOST:
      return error(
        .unreachable, "cannot find the mail server \(settings.host): check the host in smtp.url")
    case CURLE_COULDNT_CONNECT:
      return error(
        .unreachable,
        "cannot connect to \(server): nothing answers there; check smtp.url and that the server "
          + "is running")
    case CURLE_OPERATION_TIMEDOUT where f.responseCode == 0:
      return error(
        .unreachable,
        "no answer from \(server) within \(settings.timeoutSeconds) s: check smtp.url, "
          + "smtp.security and the network")
    case CURLE_USE_SSL_FAILED:
      return error(
        .tls,
        "\(server) does not offer STARTTLS: check smtp.security (\"tls\" for port 465) and "
          + "smtp.url")
    case CURLE_PEER_FAILED_VERIFICATION:
      return error(.tls, certificateProblem(f.verifyResult, settings: settings))
    case CURLE_SSL_CACERT_BADFILE:
      return error(
        .tls, "cannot read the CA certificate \(settings.caFile ?? "(none)"): check smtp.caFile")
    case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR,
      CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE:
      return error(
        .tls,
        "the TLS handshake with \(server) failed (\(f.detail)): check smtp.security "
          + "(\"starttls\" for port 587, \"tls\" for port 465)")
    case CURLE_LOGIN_DENIED:
      return error(
        .login, "the server refused the login\(said): check smtp.username and the password")
    default:
      break
    }
    if f.responseCode == 530 || f.responseCode == 538 {
      return error(
        .tls, "\(server) requires TLS\(said): set smtp.security to \"starttls\" or \"tls\"")
    }
    if (400..<600).contains(f.responseCode) {
      return error(
        .unavailable,
        "\(server) would not open a session now\(said); it may allow fewer sessions than "
          + "smtp.connections")
    }
    if f.rc == CURLE_WEIRD_SERVER_REPLY {
      return error(.protocol, "\(server) does not speak SMTP as expected: check smtp.url")
    }
    if f.rc == CURLE_GOT_NOTHING || f.rc == CURLE_RECV_ERROR || f.rc == CURLE_SEND_ERROR
      || f.rc == CURLE_OPERATION_TIMEDOUT
    {
      return error(
        .unreachable,
        "the connection to \(server) ended while the session was opened: check smtp.url and "
          + "smtp.security")
    }
    return error(.other, "cannot open an SMTP session with \(server) (\(f.detail))")
  }

  static func certificateProblem(_ result: Int, settings: SMTPSettings) -> String {
    let host = settings.host
    switch result {
    case X509Verify.unableToGetIssuerCert, X509Verify.unableToGetIssuerCertLocally,
      X509Verify.unableToVerifyLeafSignature, X509Verify.selfSignedCertInChain,
      X509Verify.depthZeroSelfSignedCert:
      return "the certificate of \(host) is signed by an authority we do not trust: "
        + (settings.caFile == nil
          ? "set smtp.caFile to the server's CA certificate (PEM)"
          : "check that smtp.caFile (\(settings.caFile ?? "")) is the CA that signed it")
    case X509Verify.certHasExpired:
      return "the certificate of \(host) has expired: its administrator must renew it"
    case X509Verify.certNotYetValid:
      return "the certificate of \(host) is not valid yet: check this computer's clock"
    case X509Verify.certRevoked:
      return "the certificate of \(host) has been revoked"
    case X509Verify.ok, X509Verify.unspecified, X509Verify.hostnameMismatch,
      X509Verify.ipAddressMismatch:
      // The chain was fine: libcurl's own check of the name failed (it leaves 0 or 1).
      return "the certificate of the server is not made out to \(host): check the host in "
        + "smtp.url"
    default:
      return "the certificate of \(host) could not be verified (OpenSSL result \(result))"
    }
  }
}
