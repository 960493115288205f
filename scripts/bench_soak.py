#!/usr/bin/env python3
"""An hour (or --minutes N) of continuous listening: does memory grow? Prints a table.

    .venv/bin/python scripts/bench_soak.py [--minutes 60] [--engine pocketsphinx] [--language en]
                                           [--microphone]

The audio is the si-joint routine's sentences and every command phrase, in several espeak-ng
voices with pauses between, repeated until the time is up, fed in 100 ms chunks straight to the
recogniser. With --microphone it goes the whole way a microphone's audio goes instead: 50 ms
blocks of 48 kHz stereo from a stand-in device (there is no sound card here), on the audio
callback's thread, through the live source's queue, conversion to 16 kHz and decoding thread,
as fast as that thread takes them. Resident memory is read from /proc after each 10 minutes of
audio.
"""

from __future__ import annotations

import argparse
import sys
import threading
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


def through_microphone(block: np.ndarray, minutes: float, recognizer) -> None:  # noqa: ANN001
    """The soak through MicSource, fed by a stand-in 48 kHz stereo device that delivers as fast
    as the decoding thread keeps up (it never lets more than 20 blocks wait)."""
    from voiceguide.speech.listening import MicSource

    rate, step = 48000, 2400  # frames per 50 ms block, 800 samples of the 16 kHz audio
    fed = [0]  # frames delivered
    ready = threading.Event()
    holder: list[MicSource] = []

    class Stream:
        active = True

        def stop(self) -> None:
            self.active = False

        close = stop

    def open_stream(deliver, overflowed):  # noqa: ANN001, ANN202
        stream = Stream()

        def run() -> None:
            ready.wait()
            while stream.active and fed[0] < minutes * 60 * rate:
                at = (fed[0] // 3) % (len(block) - 801)  # the 16 kHz audio, looped
                up = np.interp(np.arange(step) / 3, np.arange(801), block[at : at + 801].astype(np.float64))
                piece = np.repeat(up, 2).astype(np.int16)  # 48 kHz, interleaved left and right
                while holder[0].audio.qsize() > 20 and stream.active:
                    time.sleep(0.001)
                deliver(piece, rate, 2)
                fed[0] += len(piece) // 2

        threading.Thread(target=run, daemon=True).start()
        return stream

    source = MicSource(recognizer, open_stream, name="stand-in microphone")
    holder.append(source)
    print(f"{'audio minutes':>13} {'RSS MB':>8} {'commands':>9} {'cpu s':>7}")
    start, heard, next_report = time.process_time(), 0, 0.0
    ready.set()
    while True:
        while not source.queue.empty():
            source.queue.get()
            heard += 1
        done = fed[0] / rate
        if done >= next_report:
            print(f"{next_report / 60:>13.0f} {rss_mb():>8.1f} {heard:>9} {time.process_time() - start:>7.1f}", flush=True)
            next_report += 600
        if done >= minutes * 60 and source.audio.empty():
            break
        time.sleep(0.05)
    time.sleep(0.5)  # the last blocks through the decoder
    while not source.queue.empty():
        source.queue.get()
        heard += 1
    source.close()
    print(f"at the end: {rss_mb():.1f} MB, {heard} commands, {time.process_time() - start:.1f} s of CPU, "
          f"{source.overflows} input overflows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--engine", default="pocketsphinx")
    parser.add_argument("--language", default="en")
    parser.add_argument("--microphone", action="store_true", help="through the live microphone source, at 48 kHz stereo")
    args = parser.parse_args()
    texts = routine_sentences(args.language) + command_phrases(args.language)
    pieces = [(t, speak(t, v, CACHE)) for v in VOICES[args.language][:3] for t in texts]
    block, _ = build_stream(pieces, 1.0)
    block = dither(block)
    recognizer = build_recognizer(args.language, Config(), args.engine, announce=False)
    print(f"command: {' '.join(sys.argv)}")
    if args.microphone:
        through_microphone(block, args.minutes, recognizer)
        return
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
