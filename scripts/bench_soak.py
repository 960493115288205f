#!/usr/bin/env python3
"""An hour (or --minutes N) of continuous listening: does memory grow? Prints a table.

    .venv/bin/python scripts/bench_soak.py [--minutes 60] [--engine pocketsphinx] [--language en]

The audio is the si-joint routine's sentences and every command phrase, in several espeak-ng
voices with pauses between, repeated until the time is up, fed in 100 ms chunks as a
microphone would. Resident memory is read from /proc after each simulated 10 minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_listen import CACHE, VOICES, command_phrases, routine_sentences  # noqa: E402

from voiceguide.config import Config  # noqa: E402
from voiceguide.corpus import build_stream, dither, speak  # noqa: E402
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, split  # noqa: E402
from voiceguide.speech.listening import build_recognizer  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--engine", default="pocketsphinx")
    parser.add_argument("--language", default="en")
    args = parser.parse_args()
    texts = routine_sentences(args.language) + command_phrases(args.language)
    pieces = [(t, speak(t, v, CACHE)) for v in VOICES[args.language][:3] for t in texts]
    block, _ = build_stream(pieces, 1.0)
    block = dither(block)
    recognizer = build_recognizer(args.language, Config(), args.engine, announce=False)
    print(f"command: {' '.join(sys.argv)}")
    print(f"{'audio minutes':>13} {'RSS MB':>8} {'commands':>9} {'cpu s':>7}")
    heard, t, next_report = 0, 0.0, 0.0
    start = time.process_time()
    while t < args.minutes * 60:
        for chunk in split(AudioChunk(block, RECOGNIZER_RATE, timestamp=t)):
            heard += len(recognizer.feed(chunk))
            if chunk.timestamp >= next_report:
                print(f"{chunk.timestamp / 60:>13.0f} {rss_mb():>8.1f} {heard:>9} {time.process_time() - start:>7.1f}",
                      flush=True)
                next_report += 600
            if chunk.end >= args.minutes * 60:
                break
        t += len(block) / RECOGNIZER_RATE
    print(f"{args.minutes:>13.0f} {rss_mb():>8.1f} {heard:>9} {time.process_time() - start:>7.1f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
