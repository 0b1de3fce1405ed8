#!/usr/bin/env python3
"""Parses messages with Python's email package (policy.default), an independent MIME parser,
and prints what the Swift tests check, as JSON.

Usage: parse_eml.py FILE.eml ...   or   parse_eml.py --mbox FILE
"""
import hashlib
import json
import mailbox
import sys
from email import policy
from email.parser import BytesParser


def describe(raw: bytes):
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    defects = [type(d).__name__ for d in msg.defects]
    parts = []
    for part in msg.walk():
        defects += [type(d).__name__ for d in part.defects]
        if part.is_multipart():
            parts.append({"type": part.get_content_type()})
            continue
        payload = part.get_payload(decode=True) or b""
        entry = {
            "type": part.get_content_type(),
            "filename": part.get_filename(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "size": len(payload),
            "disposition": part.get_content_disposition(),
        }
        if part.get_content_maintype() == "text":
            entry["text"] = part.get_content()
        parts.append(entry)
    lines = raw.split(b"\r\n")
    bare_lf = raw.replace(b"\r\n", b"").count(b"\n")
    return {
        "defects": defects,
        "subject": str(msg["subject"]),
        "from": str(msg["from"]),
        "from_name": msg["from"].addresses[0].display_name if msg["from"] else None,
        "to": [a.addr_spec for a in msg["to"].addresses] if msg["to"] else [],
        "to_name": msg["to"].addresses[0].display_name if msg["to"] else None,
        "reply_to": str(msg["reply-to"]) if msg["reply-to"] else None,
        "message_id": str(msg["message-id"]),
        "in_reply_to": str(msg["in-reply-to"]) if msg["in-reply-to"] else None,
        "references": str(msg["references"]) if msg["references"] else None,
        "date": str(msg["date"]),
        "auto_submitted": str(msg["auto-submitted"]) if msg["auto-submitted"] else None,
        "bcc": str(msg["bcc"]) if msg["bcc"] else None,
        "mime_version": str(msg["mime-version"]),
        "content_type": msg.get_content_type(),
        "max_line": max(len(l) for l in lines),
        "bare_lf": bare_lf,
        "parts": parts,
    }


def main():
    if sys.argv[1] == "--mbox":
        box = mailbox.mbox(sys.argv[2], create=False)
        out = [describe(m.as_bytes(policy=policy.compat32)) for m in box]
        # The raw bytes as stored (mboxrd unescaped by mailbox) are what we compare.
        out = []
        for key in box.keys():
            raw = box.get_bytes(key)
            out.append(describe(raw))
    else:
        out = [describe(open(p, "rb").read()) for p in sys.argv[1:]]
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
