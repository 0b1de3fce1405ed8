#!/usr/bin/env python3
"""A real SMTP server for herinner's tests, on 127.0.0.1 only.

aiosmtpd for the normal modes (plain, STARTTLS required + AUTH, implicit TLS, 550 on RCPT,
451 on DATA, slow replies, replies held back for the crash tests); a small raw asyncio server for the faults that neither aiosmtpd
nor Postfix can be made to produce: connection drops, a stray reply line, an unreadable reply. Every accepted message is stored as DIR/NNNNNN.eml with its envelope
in DIR/NNNNNN.json; the Message-ID of every message whose end of data arrived is appended to
DIR/received.log, before the server stores or answers it. Prints "READY <port> <ca-file or ->" on stdout once listening.
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time


def make_certs(folder, name="127.0.0.1", expired=False):
    """A CA made at test time, and a server certificate signed by it: for 127.0.0.1 (or for
    `name` only, to test a name mismatch), valid now or expired since 2020."""
    ca_key, ca_crt = os.path.join(folder, "ca.key"), os.path.join(folder, "ca.pem")
    key, csr, crt = (os.path.join(folder, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(folder, "san.ext")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=folder)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
        "-days", "2", "-subj", "/CN=herinner test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
    with open(ext, "w") as f:
        if name == "127.0.0.1":
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        else:
            f.write("subjectAltName=DNS:%s\n" % name)
    if not expired:
        run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", ext)
        return ca_crt, crt, key
    # "openssl x509" takes no dates in the past; "openssl ca" does.
    with open(os.path.join(folder, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\n"
                "serial = serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = none\n"
                "[p]\ncommonName = supplied\n")
    open(os.path.join(folder, "index.txt"), "w").close()
    with open(os.path.join(folder, "serial"), "w") as f:
        f.write("01\n")
    run("openssl", "ca", "-batch", "-config", "ca.cnf", "-in", csr, "-out", crt, "-notext",
        "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-extfile", ext,
        "-keyfile", ca_key, "-cert", ca_crt)
    return ca_crt, crt, key


def message_id(data):
    """The Message-ID header of a message's bytes, or "?" (the header block only)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode("latin-1")
    return "?"


class Hold:
    """--hold PHASE:N: from the Nth MAIL (or end of data) on, counted over all sessions, every
    reply to MAIL and to the end of data is held back until DIR/release exists. DIR/held says
    that it began (PHASE N), so a test can kill the client while the server has the message (a
    held end of data is stored first, as a server that commits before it answers) or has not
    yet seen its data (a held MAIL)."""

    def __init__(self, spec, folder):
        self.phase, self.n = None, 0
        if spec:
            phase, n = spec.split(":")
            self.phase, self.n = phase, int(n)
        self.folder = folder
        self.counts = {"mail": 0, "data": 0}
        self.on = False

    async def wait(self, phase):
        if self.phase is None:
            return
        self.counts[phase] += 1
        release = os.path.join(self.folder, "release")
        if not self.on and phase == self.phase and self.counts[phase] >= self.n \
                and not os.path.exists(release):
            self.on = True
            with open(os.path.join(self.folder, "held.tmp"), "w") as f:
                f.write("%s %d\n" % (phase, self.counts[phase]))
            os.rename(os.path.join(self.folder, "held.tmp"), os.path.join(self.folder, "held"))
        while self.on and not os.path.exists(release):
            await asyncio.sleep(0.01)


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def received(self, data):
        with self.lock:
            with open(os.path.join(self.folder, "received.log"), "a") as f:
                f.write(message_id(data) + "\n")

    def save(self, mail_from, rcpts, data):
        with self.lock:
            n = next(self.counter)
        base = os.path.join(self.folder, "%06d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        with open(base + ".json", "w") as f:
            json.dump({"from": mail_from, "to": rcpts}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return n


def run_aiosmtpd(args, store, ca):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    hold = Hold(args.hold, args.dir)

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            await hold.wait("mail")
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if args.reject_rcpt and args.reject_rcpt in address:
                return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            store.received(envelope.original_content)
            if args.delay:
                await asyncio.sleep(args.delay)
            if args.defer_data:
                return "451 4.3.0 Temporary failure, try again later"
            n = store.save(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
            await hold.wait("data")
            return "250 2.0.0 OK queued as HQ%06d" % n

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, password = args.auth.split(":", 1)
        login = getattr(auth_data, "login", b"")
        secret = getattr(auth_data, "password", b"")
        if login == user.encode() and secret == password.encode():
            return AuthResult(success=True)
        # handled=False makes aiosmtpd answer 535; True would leave the client hanging.
        return AuthResult(success=False, handled=False)

    kwargs = {}
    tls_ctx = None
    if args.tls in ("starttls", "implicit"):
        tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ctx.load_cert_chain(ca[1], ca[2])
    if args.tls == "starttls":
        kwargs.update(tls_context=tls_ctx, require_starttls=True)
    if args.auth:
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.tls != "none")
    if args.tls == "implicit":
        kwargs.update(ssl_context=tls_ctx)
        if args.auth:
            kwargs.update(auth_require_tls=False)
    controller = Controller(Handler(), hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    return controller, controller.port


async def raw_server(args, store):
    """Drops the connection mid-DATA or after DATA before the final reply (--drop), adds a
    reply nobody asked for after the RCPT reply (--stray rcpt) or after the final one
    (--stray final), or answers the end of data with a line that is no SMTP reply (--garbage)."""

    async def handle(reader, writer):
        writer.write(b"220 127.0.0.1 ESMTP drop-test\r\n")
        await writer.drain()
        mail_from, rcpts = None, []
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.decode("latin-1").strip()
            upper = cmd.upper()
            if upper.startswith("EHLO") or upper.startswith("HELO"):
                pipelining = b"250-PIPELINING\r\n" if args.pipelining else b""
                writer.write(b"250-127.0.0.1\r\n" + pipelining + b"250-SIZE 100000000\r\n250 8BITMIME\r\n")
            elif upper.startswith("MAIL FROM"):
                mail_from = cmd[10:]
                writer.write(b"250 OK\r\n")
            elif upper.startswith("RCPT TO"):
                rcpts.append(cmd[8:])
                writer.write(b"250 OK\r\n" + (b"250 2.1.5 OK\r\n" if args.stray == "rcpt" else b""))
            elif upper == "DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                if args.drop == "mid-data":
                    await reader.read(200)
                    writer.transport.abort()
                    return
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = await reader.read(65536)
                    if not chunk:
                        return
                    data += chunk
                store.received(data[:-5])
                if args.drop == "after-data":
                    store.save(mail_from, rcpts, data[:-5])
                    writer.transport.abort()  # no final reply
                    return
                n = store.save(mail_from, rcpts, data[:-5])
                if args.garbage:
                    writer.write(b"OK, got it\r\n")
                else:
                    # One write: the stray line arrives together with the reply.
                    stray = b"250 2.0.0 OK\r\n" if args.stray == "final" else b""
                    writer.write(b"250 2.0.0 OK queued as RAW%06d\r\n" % n + stray)
                mail_from, rcpts = None, []
            elif upper == "QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            elif upper in ("RSET", "NOOP"):
                writer.write(b"250 OK\r\n")
            else:
                writer.write(b"502 not implemented\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    return server


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--auth", help="user:password")
    p.add_argument("--reject-rcpt", help="answer 550 at RCPT for addresses containing this")
    p.add_argument("--defer-data", action="store_true", help="answer 451 after DATA")
    p.add_argument("--drop", choices=["mid-data", "after-data"])
    p.add_argument("--delay", type=float, default=0.0, help="seconds before the reply to DATA")
    p.add_argument("--cert-name", default="127.0.0.1", help="the only name in the certificate")
    p.add_argument("--cert-expired", action="store_true", help="a certificate that has expired")
    p.add_argument("--stray", choices=["rcpt", "final"], help="a reply line nobody asked for")
    p.add_argument("--garbage", action="store_true", help="no SMTP reply to the end of data")
    p.add_argument("--hold", help="mail:N or data:N: hold replies from the Nth on (see Hold)")
    p.add_argument("--pipelining", action="store_true", help="offer PIPELINING (raw modes)")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    store = Store(args.dir)
    ca = (None, None, None)
    if args.tls != "none":
        ca = make_certs(args.dir, args.cert_name, args.cert_expired)

    stop = threading.Event()
    # A parent that spawned us from a thread with SIGTERM blocked passes that mask on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    # Stop at once on SIGTERM: every accepted message is already on disk, and a graceful
    # shutdown would wait for clients that keep their connection open.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))

    if args.drop or args.stray or args.garbage:
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(raw_server(args, store))
        port = server.sockets[0].getsockname()[1]
        print("READY %d -" % port, flush=True)
        t = threading.Thread(target=loop.run_forever, daemon=True)
        t.start()
        while not stop.is_set() and sys.stdin.readable():
            time.sleep(0.1)
        loop.call_soon_threadsafe(loop.stop)
        return

    if args.port == 0:
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        args.port = s.getsockname()[1]
        s.close()
    controller, port = run_aiosmtpd(args, store, ca)
    print("READY %d %s" % (port, ca[0] or "-"), flush=True)
    while not stop.is_set():
        time.sleep(0.1)
    controller.stop()


if __name__ == "__main__":
    main()
