#!/usr/bin/env python3
"""The guide hearing itself, and a person talking over it.

    .venv/bin/python scripts/bench_echo.py [--routines si-joint,si-joint-floor] [--trials 24] [--gains 0,-6] [--jobs 1]

(--routines "" and --trials 0 leave out parts 1 and 2.)

The guide's own rendered voice is mixed into the microphone signal at 0 and -6 dB with a
30 ms delay (`run --echo-gain --echo-delay`), as from a speaker beside the microphone.

1. False commands: each routine runs unattended from a WAV of a quiet room long enough for the
   whole routine, so every command obeyed is a false one from its own speech. With and without
   echo cancellation (`recognition.echo_cancel`).
2. Barge-in: in separate runs of si-joint a person says pain, stop or pause (or a synonym)
   half a second into one of the guide's sentences, as loud as the guide's voice at the
   microphone. Counted: caught (the right command, while the guide is still talking), and the
   barge-in delay: session time the guide's speech is cut minus the end of the person's words,
   in audio milliseconds (the run's clock is the audio consumed). Next to it: how many of the
   same recordings are recognised with the guide silent, so misses of the recogniser itself can
   be told from misses caused by the guide's voice. Each run twice: as a person's first session,
   and as a returning person's, starting from what listening learned in an earlier session in
   which that person said a few other commands (see EARLIER).
3. First sentence: the same, but 0.3 to 1.2 s into the session's first sentence, before the
   canceller can have learned the echo path; once starting from nothing, once from the path
   saved by an earlier session run at 0 dB (at -6 dB that path must first be fitted to the
   quieter loudspeaker).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voiceguide import cli  # noqa: E402
from voiceguide.commands import parse  # noqa: E402
from voiceguide.config import load_config  # noqa: E402
from voiceguide.corpus import Voice, dither, silence, speak  # noqa: E402
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, write_wav  # noqa: E402
from voiceguide.speech.echo import EchoTap  # noqa: E402
from voiceguide.speech.listening import LISTENER, build_recognizer, listen_file, resume_listener  # noqa: E402

CACHE = ROOT / "bench_out" / "speech"
MINUTES = 28  # longer than either built-in routine run unattended
DELAY_MS = 30
GAINS = (0, -6)
PERSON = [Voice("en-us", 150, 50), Voice("en-gb", 170, 40), Voice("flite:slt", 150, 50), Voice("flite:awb", 170, 20)]
BARGE_IN = ["pain", "stop", "pause", "ouch", "that hurts", "wait"]
LATEST = 420.0  # seconds: trials are spread over the first minutes of the routine
# What the person says in an earlier session, for the runs that start from what it learned.
EARLIER = ["next", "repeat", "where am i", "go on", "slower", "faster"]
FIRST_SENTENCE = (0.3, 0.5, 0.8, 1.2)  # seconds into it
FIRST_SENTENCE_TRIALS = (6, 1, 11)  # barge-in trials whose recordings the recogniser hears on their own


def run(argv: list[str]) -> list[dict]:
    """One `voiceguide run` in this process; returns its log's events."""
    log_dir = Path(argv[argv.index("--log-dir") + 1])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(argv)
    if code:
        raise SystemExit(f"voiceguide {' '.join(argv)} failed with {code}")
    return [json.loads(x) for x in next(log_dir.glob("*.jsonl")).read_text().splitlines()]


def run_args(routine: str, wav: Path, gain: float, log_dir: Path, config: Path) -> list[str]:
    return ["--config", str(config), "run", routine, "--input", f"wav:{wav}", "--voice", "print",
            "--echo-gain", str(gain), "--echo-delay", str(DELAY_MS), "--log-dir", str(log_dir)]


def false_commands(routines: list[str], gains: list[float], tmp: Path, configs: dict[str, Path]) -> None:
    print("| routine | echo | cancellation | commands acted on (all false) | numbers heard outside a pain rating (no effect) "
          "| ignored as own echo | session |")
    print("|---|---|---|---|---|---|---|")
    quiet = tmp / "quiet.wav"
    write_wav(quiet, AudioChunk(dither(silence(MINUTES * 60)), RECOGNIZER_RATE))
    for routine in routines:
        for gain in gains:
            for label, config in configs.items():
                lines = run(run_args(routine, quiet, gain, tmp / f"{routine}{gain}{label}", config))
                heard = [x for x in lines if x["type"] == "command"]
                idle = [x for x in heard if x["command"] == "number" and x["phase"] not in ("pain_rating", "pain_rest")]
                obeyed = [x for x in heard if x not in idle]
                ignored = [x for x in lines if x["type"] == "notice" and "guide itself" in x["message"]]
                end = next((x for x in lines if x["type"] == "session_end"), {"status": "?"})
                said = ", ".join(sorted({x["text"] for x in obeyed}))[:60]
                print(f"| {routine} | {gain} dB | {label} | {len(obeyed)} ({said}) | {len(idle)} | {len(ignored)} "
                      f"| {end['status']} |")


def guide_schedule(tmp: Path, config: Path) -> list[tuple[float, float, float]]:
    """(start, end, rms) of each sentence the guide says in an unattended si-joint run at 0 dB;
    that run's learned echo path is left in tmp/schedule."""
    schedule: list[tuple[float, float, float]] = []
    said = EchoTap.said

    def recording(self: EchoTap, text: str, at: float) -> float:
        seconds = said(self, text, at)
        samples = self.playback.pieces[-1][1]
        schedule.append((at, at + seconds, float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))))
        return seconds

    quiet = tmp / "quiet-short.wav"
    write_wav(quiet, AudioChunk(dither(silence(LATEST + 30)), RECOGNIZER_RATE))
    EchoTap.said = recording  # type: ignore[method-assign]
    try:
        run(run_args("si-joint", quiet, 0, tmp / "schedule", config))
    finally:
        EchoTap.said = said  # type: ignore[method-assign]
    return schedule


def as_loud_as_the_echo(person: np.ndarray, guide_rms: float, gain: float) -> np.ndarray:
    """A person's words scaled so their voiced part is as loud as the guide's echo at `gain` dB."""
    person = person.astype(np.float64)
    return person * guide_rms * 10 ** (gain / 20) / np.sqrt(np.mean(person[np.abs(person) > 200] ** 2))


def trial(job: tuple[str, float, float, float, str, Voice, Path, Path]) -> tuple[bool, float | None, list[str], bool]:
    """(caught, barge-in delay in seconds, other commands, caught with the guide silent) for one
    person's command over the guide. `name` names its files and its log folder in `tmp`, which
    must be its own: a saved echo path or listening state found there is used."""
    name, gain, at, guide_rms, phrase, voice, tmp, config = job
    person = as_loud_as_the_echo(speak(phrase, voice, CACHE), guide_rms, gain)
    start = int(at * RECOGNIZER_RATE)
    audio = np.zeros(start + len(person) + 2 * RECOGNIZER_RATE)
    audio[start : start + len(person)] = person
    word_end = at + len(person) / RECOGNIZER_RATE
    wav = tmp / f"{name}.wav"
    write_wav(wav, AudioChunk(dither(audio), RECOGNIZER_RATE))
    kept = tmp / f"{name}-{LISTENER}"  # what an earlier session learned, if this run starts from it
    if (tmp / name / LISTENER).exists():
        shutil.copy(tmp / name / LISTENER, kept)
    lines = run(run_args("si-joint", wav, gain, tmp / name, config))
    wanted = parse(phrase, "en")[0].value
    commands = [x for x in lines if x["type"] == "command"]
    hit = next((x for x in commands if x["command"] == wanted and at <= x["t"] <= word_end + 1.0), None)
    # The same words on their own, with a second of the same quiet on either side.
    alone_wav = tmp / f"{name}-alone.wav"
    padded = np.concatenate([np.zeros(RECOGNIZER_RATE), person, np.zeros(RECOGNIZER_RATE)])
    write_wav(alone_wav, AudioChunk(dither(padded), RECOGNIZER_RATE))
    with contextlib.redirect_stderr(io.StringIO()):  # it says which engine listens, once a trial
        recognizer = build_recognizer("en", load_config(config))
    if kept.exists():
        resume_listener(recognizer, kept)
    alone = any(e.command.value == wanted for e in listen_file(alone_wav, recognizer))
    others = [f"{x['text']!r} at {x['t'] - at:+.1f} s in {x['phase']}" for x in commands if x is not hit]
    return hit is not None, (hit["t"] - word_end) if hit else None, others, alone


def earlier_session(voice: Voice, gain: float, guide_rms: float, tmp: Path, config: Path) -> Path:
    """The listening state kept by an earlier session of si-joint in which this person said
    EARLIER, one every 30 s, as loud as the guide's voice at the microphone."""
    audio = np.zeros(int((LATEST + 30) * RECOGNIZER_RATE))
    for k, phrase in enumerate(EARLIER):
        person = as_loud_as_the_echo(speak(phrase, voice, CACHE), guide_rms, gain)
        start = int((40 + 30 * k) * RECOGNIZER_RATE)
        audio[start : start + len(person)] = person
    wav = tmp / f"earlier{gain}-{voice.name}.wav"
    write_wav(wav, AudioChunk(dither(audio), RECOGNIZER_RATE))
    run(run_args("si-joint", wav, gain, tmp / f"earlier{gain}-{voice.name}", config))
    return tmp / f"earlier{gain}-{voice.name}" / LISTENER


def barge_in(schedule: list[tuple[float, float, float]], trials: int, gains: list[float], jobs: int, tmp: Path,
             config: Path) -> None:
    schedule = [s for s in schedule if s[1] - s[0] >= 2.0 and s[0] < LATEST]
    picks = [schedule[int(i * len(schedule) / trials)] for i in range(trials)]
    print("| echo | person | person's commands over the guide's speech | caught | other commands "
          "| barge-in delay p50 / p95 (ms) | same recordings, guide silent: recognised |")
    print("|---|---|---|---|---|---|---|")
    missed: list[str] = []
    others: list[str] = []
    loudness = float(np.median([s[2] for s in schedule]))
    for gain, returning in ((g, r) for g in gains for r in (False, True)):
        kept = {v.name: earlier_session(v, gain, loudness, tmp, config) for v in PERSON} if returning else {}
        who = "returning" if returning else "first session"
        work = [(f"barge{gain}-{who[0]}{i}", gain, s[0] + 0.5, s[2], BARGE_IN[i % len(BARGE_IN)], PERSON[i % len(PERSON)],
                 tmp, config) for i, s in enumerate(picks)]
        for job in work if returning else []:
            (tmp / job[0]).mkdir()
            shutil.copy(kept[job[5].name], tmp / job[0] / LISTENER)
        if jobs == 1:
            results = [trial(job) for job in work]
        else:
            # Fresh interpreters: the runs above leave threads behind that a forked child would inherit.
            with multiprocessing.get_context("spawn").Pool(jobs) as pool:
                results = pool.map(trial, work)
        caught = sum(r[0] for r in results)
        delays = np.array([r[1] for r in results if r[1] is not None]) * 1000
        p50, p95 = (np.percentile(delays, 50), np.percentile(delays, 95)) if len(delays) else (np.nan, np.nan)
        alone = sum(r[3] for r in results)
        print(f"| {gain} dB | {who} | {len(results)} | {caught} ({caught / len(results):.0%}) | {sum(len(r[2]) for r in results)} "
              f"| {p50:.0f} / {p95:.0f} | {alone} ({alone / len(results):.0%}) |")
        missed += [f"{gain} dB, {who}: {job[4]!r} ({job[5].name}){'' if r[3] else ', missed alone too'}"
                   for job, r in zip(work, results, strict=True) if not r[0]]
        others += [f"{gain} dB, {who}, {job[4]!r} ({job[5].name}): {', '.join(r[2])}" for job, r in zip(work, results, strict=True) if r[2]]
    print(f"\nmissed: {'; '.join(missed) or 'none'}\n")
    print(f"other commands (time from the person's words): {'; '.join(others) or 'none'}\n")


def first_sentence(schedule: list[tuple[float, float, float]], gains: list[float], tmp: Path, config: Path) -> None:
    first = schedule[0]
    saved = tmp / "schedule" / "echo-path.npz"
    print("| echo | commands in the first sentence | caught, canceller starting from nothing "
          "| caught, starting from the path saved at 0 dB |")
    print("|---|---|---|---|")
    for gain in gains:
        caught = {False: 0, True: 0}
        for at in FIRST_SENTENCE:
            for i in FIRST_SENTENCE_TRIALS:
                for warm in (False, True):
                    name = f"first{gain}-{at}-{i}-{'warm' if warm else 'cold'}"
                    if warm:
                        (tmp / name).mkdir()
                        shutil.copy(saved, tmp / name / "echo-path.npz")
                    job = (name, gain, first[0] + at, first[2], BARGE_IN[i % len(BARGE_IN)], PERSON[i % len(PERSON)])
                    caught[warm] += trial((*job, tmp, config))[0]
        total = len(FIRST_SENTENCE) * len(FIRST_SENTENCE_TRIALS)
        print(f"| {gain} dB | {total} | {caught[False]} | {caught[True]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routines", default="si-joint,si-joint-floor")
    parser.add_argument("--trials", type=int, default=24, help="barge-in runs per echo level (0: none)")
    parser.add_argument("--gains", default=",".join(str(g) for g in GAINS), help="echo levels in dB, comma-separated")
    parser.add_argument("--jobs", type=int, default=1, help="barge-in runs at once (1: one after another, in this process)")
    args = parser.parse_args()
    print(f"command: {' '.join(sys.argv)}\n")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        configs = {"on": tmp / "cancel-on.yaml", "off": tmp / "cancel-off.yaml"}
        configs["on"].write_text("recognition:\n  echo_cancel: true\n")
        configs["off"].write_text("recognition:\n  echo_cancel: false\n")
        gains = [float(g) for g in args.gains.split(",")]
        if args.routines:
            false_commands(args.routines.split(","), gains, tmp, configs)
            print()
        schedule = guide_schedule(tmp, configs["on"])
        if args.trials:
            barge_in(schedule, args.trials, gains, args.jobs, tmp, configs["on"])
            print()
        first_sentence(schedule, gains, tmp, configs["on"])


if __name__ == "__main__":
    main()
