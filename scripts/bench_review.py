#!/usr/bin/env python3
"""How long a review of two years of daily session logs takes: prints a table.

    .venv/bin/python scripts/bench_review.py

Target: under 1 s. "cold" reads every log; "cached" uses the summaries cache in the log folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voiceguide.routine import find_routine, load_routine  # noqa: E402
from voiceguide.synthetic import pattern, write_history  # noqa: E402

DAYS = 730


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "voiceguide", *args], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        routine = load_routine(find_routine("si-joint"))
        write_history(folder, routine, date.today() - timedelta(days=DAYS - 1), DAYS, pattern("worsening", DAYS))
        size = sum(p.stat().st_size for p in folder.glob("*.jsonl")) / 1e6
        print(f"{DAYS} daily sessions, {size:.1f} MB of logs\n")
        print(f"{'what':<34} {'seconds':>8} {'target':>7}")
        rows = [("log summary, cold (no cache)", timed(["log", "--log-dir", tmp, "summary", "--json"])),
                ("log summary, cached", timed(["log", "--log-dir", tmp, "summary", "--json"])),
                ("report, 104 weeks, cached", timed(["report", "--log-dir", tmp, "--weeks", "104",
                                                      "--out", str(folder / "r.html")]))]
        for name, seconds in rows:
            print(f"{name:<34} {seconds:>8.3f} {1.0:>7.1f}")


if __name__ == "__main__":
    main()
