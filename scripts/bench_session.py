#!/usr/bin/env python3
"""Start-up and scripted-session speed: prints a table.

    .venv/bin/python scripts/bench_session.py

Targets: `voiceguide --help` under 0.3 s; a whole built-in routine, scripted (virtual clock,
print voice), under 2 s of wall time.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUTINES = ("si-joint", "si-joint-floor")


def wall(args: list[str], repeat: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "voiceguide", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    rows = [("--help", *wall(["--help"]), 0.3)]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "script.txt"
        script.write_text("# no commands: the routine runs by itself\n")
        for routine in ROUTINES:
            args = ["run", routine, "--input", f"script:{script}", "--voice", "print", "--log-dir", tmp]
            rows.append((f"run {routine} (scripted)", *wall(args), 2.0))
    print(f"{'what':<34} {'median s':>9} {'max s':>7} {'target s':>9}  ok")
    for name, median, worst, target in rows:
        print(f"{name:<34} {median:>9.3f} {worst:>7.3f} {target:>9.1f}  {'yes' if worst < target else 'NO'}")


if __name__ == "__main__":
    main()
