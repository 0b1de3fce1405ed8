#!/usr/bin/env python3
"""Reference client: Python's smtplib sending COUNT messages of SIZE bytes over one reused
connection per worker. Prints messages per second."""
import smtplib
import sys
import threading
import time

port, count, size, connections = (int(x) for x in sys.argv[1:5])
body = "From: bench@studiovermeer.nl\r\nTo: sink@example.nl\r\nSubject: bench\r\n\r\n"
while len(body) < size:
    body += "x" * 76 + "\r\n"
data = body.encode()
per = count // connections


def worker():
    s = smtplib.SMTP("127.0.0.1", port)
    s.ehlo("studiovermeer.nl")
    for _ in range(per):
        s.sendmail("bench@studiovermeer.nl", ["sink@example.nl"], data)
    s.quit()


t = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(connections)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print("%d" % (per * connections / (time.monotonic() - t)))
