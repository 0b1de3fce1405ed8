#!/usr/bin/env python3
"""Runs a command and prints its wall time and peak RSS (KiB) on stderr as
`wall_seconds=… peak_rss_kib=… cpu_seconds=…` (user + system, every thread: on a shared
machine a steadier measure of the work than the wall time); stdout and the exit code pass
through."""
import resource
import subprocess
import sys
import time

t = time.monotonic()
rc = subprocess.run(sys.argv[1:]).returncode
wall = time.monotonic() - t
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("wall_seconds=%.3f peak_rss_kib=%d cpu_seconds=%.3f" % (wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime), file=sys.stderr)
sys.exit(rc)
