#!/usr/bin/env python3
"""Writes a copy of a generated config that an older herinner binary accepts: its own
templates folder, and without the keys it reports as unknown (newer settings left at
their defaults). Usage: old_config.py OLD_BINARY CONFIG_IN CONFIG_OUT TEMPLATES"""
import json
import re
import subprocess
import sys

old, source, target, templates = sys.argv[1:5]
config = json.load(open(source))
config["templates"] = templates
for _ in range(20):
    json.dump(config, open(target, "w"), indent=1, ensure_ascii=False)
    out = subprocess.run([old, "check", "--config", target], capture_output=True, text=True)
    unknown = re.findall(r":\d+: ([\w.]+): unknown key", out.stdout + out.stderr)
    if not unknown:
        break
    for path in unknown:
        *parents, key = path.split(".")
        node = config
        for p in parents:
            node = node[p]
        node.pop(key, None)
