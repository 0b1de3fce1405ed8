#!/usr/bin/env python3
"""Generates a realistic administration of any size, deterministically from a seed:
invoices.csv (semicolon, Dutch decimals, a mix of kinds, statuses and due dates), a pool of
PDF files of realistic size in pdf/, and herinner.json pointing at an SMTP server on loopback.

Usage: generate.py --count N --out DIR [--seed S] [--pdf-size BYTES] [--port P] [--due-date YYYY-MM-DD]
With --all-due every invoice is open and due for its first reminder on the run date.
"""
import argparse
import datetime
import json
import os
import random

FIRST = ["Anna", "Jan", "Pieter", "Sanne", "Daan", "Emma", "Lars", "Fleur", "Zoë", "Bram"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Šimić", "van Dijk"]
FIRMS = ["Bakkerij", "Installatietechniek", "Architecten", "Drukkerij", "Hoveniers", "Adviesbureau"]


def pdf_bytes(size, n):
    head = b"%PDF-1.4\n% herinner benchmark invoice " + str(n).encode() + b"\n"
    rnd = random.Random(n)
    body = bytes(rnd.getrandbits(8) for _ in range(max(0, size - len(head) - 6)))
    return head + body + b"\n%%EOF"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=20261129)
    p.add_argument("--pdf-size", type=int, default=100_000)
    p.add_argument("--pdf-pool", type=int, default=50)
    p.add_argument("--port", type=int, default=2525)
    p.add_argument("--run-date", default="2026-12-01")
    p.add_argument("--all-due", action="store_true")
    p.add_argument("--connections", type=int, default=4)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(os.path.join(a.out, "pdf"), exist_ok=True)
    for i in range(a.pdf_pool):
        path = os.path.join(a.out, "pdf", "f%03d.pdf" % i)
        if not os.path.exists(path) or os.path.getsize(path) != a.pdf_size:
            with open(path, "wb") as f:
                f.write(pdf_bytes(a.pdf_size, i))
    run = datetime.date.fromisoformat(a.run_date)
    with open(os.path.join(a.out, "invoices.csv"), "w", encoding="utf-8") as f:
        f.write("number;customer_id;customer;contact;email;kind;issued;due;amount;paid;currency;status;pdf;language;phone;reference\n")
        for i in range(a.count):
            consumer = rnd.random() < 0.4
            name = "%s %s" % (rnd.choice(FIRST), rnd.choice(LAST))
            customer = name if consumer else "%s %s B.V." % (rnd.choice(FIRMS), rnd.choice(LAST))
            if a.all_due:
                due = run - datetime.timedelta(days=rnd.randint(7, 20))
                status = "open"
            else:
                due = run - datetime.timedelta(days=rnd.randint(-30, 120))
                status = rnd.choices(["open", "paid", "disputed", "payment-plan", "on-hold", "credited"], [80, 10, 3, 3, 2, 2])[0]
            issued = due - datetime.timedelta(days=30)
            cents = rnd.randint(2_000, 2_500_000)
            amount = "%d,%02d" % (cents // 100, cents % 100)
            f.write(";".join([
                "B%07d" % i, "C%07d" % i, customer, ("mevrouw " if rnd.random() < 0.5 else "heer ") + name.split(" ", 1)[1],
                "klant%07d@example.nl" % i, "consumer" if consumer else "business",
                issued.isoformat(), due.strftime("%d-%m-%Y") if i % 2 else due.isoformat(), amount, "0", "EUR", status,
                "f%03d.pdf" % (i % a.pdf_pool), "nl", "06 %08d" % i, "",
            ]) + "\n")
    config = json.load(open(os.path.join(os.path.dirname(__file__), "..", "config.example.json")))
    config["invoices"] = {"path": "invoices.csv", "attachments": "pdf", "columns": {}}
    config["templates"] = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "Templates"))
    config["ledger"] = "herinner.sqlite"
    config["archive"] = "archive"
    config["export"] = "export"
    config["interestRates"] = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "Data", "wettelijke-rente.csv"))
    config["smtp"] = {"url": "smtp://127.0.0.1:%d" % a.port, "security": "none", "connections": a.connections}
    json.dump(config, open(os.path.join(a.out, "herinner.json"), "w"), indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
