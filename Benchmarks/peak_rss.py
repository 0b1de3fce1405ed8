#!/usr/bin/env python3
"""Runs a command and prints its wall time and peak RSS (KiB) on stderr as
`wall_seconds=… peak_rss_kib=…`; stdout and the exit code pass through."""
import resource
import subprocess
import sys
import time

t = time.monotonic()
rc = subprocess.run(sys.argv[1:]).returncode
wall = time.monotonic() - t
print("wall_seconds=%.3f peak_rss_kib=%d" % (wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss), file=sys.stderr)
sys.exit(rc)
