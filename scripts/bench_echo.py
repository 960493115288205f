#!/usr/bin/env python3
"""The guide hearing itself: whole routines with its own voice mixed into a quiet recording.

    .venv/bin/python scripts/bench_echo.py [--routines si-joint,si-joint-floor]

For each routine and echo gain (0 and -6 dB, 30 ms delay) the routine runs from a WAV of a
quiet room (faint noise only) long enough for the whole routine, so every command obeyed is a
false one from the guide's own speech. Prints: commands obeyed, commands ignored as its own
echo, whether the session reached its end. Detection of a person's commands spoken over the
guide is not measured here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voiceguide.corpus import dither, silence  # noqa: E402
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, write_wav  # noqa: E402

MINUTES = 28  # longer than either built-in routine run unattended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routines", default="si-joint,si-joint-floor")
    args = parser.parse_args()
    print(f"command: {' '.join(sys.argv)}\n")
    print("| routine | echo | commands obeyed (all false) | ignored as own echo | session |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        quiet = Path(tmp) / "quiet.wav"
        write_wav(quiet, AudioChunk(dither(silence(MINUTES * 60)), RECOGNIZER_RATE))
        for routine in args.routines.split(","):
            for gain in (0, -6):
                logs = Path(tmp) / f"{routine}{gain}"
                subprocess.run([sys.executable, "-m", "voiceguide", "run", routine, "--input", f"wav:{quiet}",
                                "--voice", "print", "--echo-gain", str(gain), "--log-dir", str(logs)],
                               check=True, capture_output=True, cwd=ROOT)
                lines = [json.loads(x) for x in next(logs.glob("*.jsonl")).read_text().splitlines()]
                obeyed = [x for x in lines if x["type"] == "command"]
                ignored = [x for x in lines if x["type"] == "notice" and "guide itself" in x["message"]]
                end = next((x for x in lines if x["type"] == "session_end"), {"status": "?"})
                said = ", ".join(sorted({x["text"] for x in obeyed}))[:60]
                print(f"| {routine} | {gain} dB | {len(obeyed)} ({said}) | {len(ignored)} | {end['status']} |")


if __name__ == "__main__":
    main()
