#!/usr/bin/env python3
"""Command recognition benchmark: accuracy by noise, false accepts, latency, speed, memory.

    .venv/bin/python scripts/bench_listen.py [--quick] [--engines pocketsphinx-en,vosk-ko] [--voices unseen]

Builds a corpus with espeak-ng and Flite (several voices, speeds, pitches; Flite's voices are
made from recordings of people, espeak-ng's are formant synthesis): every command phrase, clean
and with white, pink and babble noise at 20, 10 and 5 dB SNR, with and without room reverb,
and clean through an 8 kHz device (a telephone's band), a microphone with its gain set low,
one that hums (mains), and with music (these four kept out of the overall figures);
and non-command speech (the routines' own sentences and other prose). Audio is cached under
bench_out/. Prints one table per engine. Latency is emitted_at minus the true end of the
spoken words, in audio seconds (independent of machine speed).

Every threshold was set on the standard voices. `--voices unseen` runs the same conditions on
three Festival voices (two diphone voices and one trained on a woman's recordings) that nothing
was tuned on, for English only.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voiceguide.commands import COURTESY, INTERRUPTING, NUMBERS, Command, parse, phrases  # noqa: E402
from voiceguide.config import Config  # noqa: E402
from voiceguide.corpus import (  # noqa: E402
    Voice,
    build_stream,
    dither,
    mains_hum,
    mix_at_snr,
    noise,
    quiet_microphone,
    reverb,
    speak,
    telephone,
)
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, split, to_int16  # noqa: E402

CACHE = ROOT / "bench_out" / "speech"
VOICES = {
    "en": [Voice("en-us", 150, 50), Voice("en-gb", 170, 40), Voice("en-us+f3", 140, 60), Voice("en+m3", 180, 45),
           Voice("en-gb-x-rp+f2", 160, 55), Voice("en-us-nyc", 155, 35),
           Voice("flite:slt", 150, 50), Voice("flite:awb", 170, 20), Voice("flite:rms", 160, 20), Voice("flite:kal16", 180, 25)],
    "ko": [Voice("ko", 150, 50), Voice("ko+f3", 140, 60), Voice("ko+m3", 170, 40)],
}
# Never used to set anything: how the figures hold on voices the thresholds have not met.
UNSEEN_VOICES = {"en": [Voice("festival:kal_diphone", 160), Voice("festival:ked_diphone", 150),
                        Voice("festival:cmu_us_slt_arctic_hts", 170)]}
BABBLE_VOICES = {"en": ["en-gb-scotland", "en-us+f2", "en-029", "en-gb-x-gbclan+f4"], "ko": ["ko+f2", "ko+m2", "ko+f4"]}
OTHER_PROSE = {
    "en": [
        "The weather today is cloudy, with a chance of rain later in the afternoon.",
        "I went to the store to buy some bread, milk and a few apples for the week.",
        "She said the meeting would start at ten, so we should leave the house early.",
        "Please remember to water the plants on the balcony every other day.",
        "Our neighbours have a small dog that barks whenever the post arrives.",
        "The train was late again, so we waited on the platform for nearly an hour.",
        "He likes to read history books before going to sleep at night.",
        "They built a new library near the river, and it opened last summer.",
        "If you stop by the bakery, pick up a loaf of rye and some rolls.",
        "The next bus leaves at a quarter past six from the corner of the square.",
        "My back was sore after moving the boxes, but it feels better now.",
        "We should skip dessert tonight and go for a walk along the beach instead.",
        "Could you repeat the address once more, I did not catch the number.",
        "The children paused their game to watch the fire engine go by.",
        "Help yourself to coffee; the pot is on the counter next to the sink.",
        "Turn back at the bridge if the path is flooded after the storm.",
        "The doctor asked how the pain had changed since the last visit.",
        "It was faster to cycle than to drive through the busy town centre.",
        "Status reports are due every Friday before the end of the day.",
        "When the music slows down, the dancers move closer together.",
    ],
    "ko": [
        "오늘 날씨는 흐리고 오후에 비가 올 수 있습니다.",
        "가게에 가서 빵과 우유를 샀습니다.",
        "회의는 열 시에 시작한다고 했습니다.",
        "베란다에 있는 화분에 물을 주세요.",
        "기차가 또 늦어서 한 시간 동안 기다렸습니다.",
        "그는 잠들기 전에 역사책을 읽는 것을 좋아합니다.",
        "강 근처에 새 도서관이 지어졌습니다.",
        "다음 버스는 여섯 시 십오 분에 떠납니다.",
    ],
}
GUIDE_VOICE = {"en": Voice("en", 160), "ko": Voice("ko", 160)}
NOISES = ("white", "pink", "babble")
SNRS = (20, 10, 5)
GAP = 1.2  # seconds of silence between utterances
TARGETS = {"en": {"clean": 0.98, 10: 0.95, "fa_per_hour": 1.0, "p95": 0.300, "rtf": 0.1, "load": 3.0}}


def routine_sentences(language: str) -> list[str]:
    if language != "en":
        from voiceguide.texts import TEXTS

        return [t.format(name="다음", reps=3, rep=1, side="왼쪽", seconds=10, position="누우세요", done=3, total=5,
                         where="", left=2, at="") for t in TEXTS[language].values()]
    from voiceguide.plan import StepKind, build_plan
    from voiceguide.routine import find_routine, load_routine
    from voiceguide.texts import Texts

    routine = load_routine(find_routine("si-joint"))
    seen: dict[str, None] = {}
    for part in build_plan(routine, Texts("en")):
        for step in part.steps:
            if step.kind in (StepKind.SAY, StepKind.REST) and step.text:
                seen.setdefault(step.text, None)
    return list(seen)


def command_phrases(language: str) -> list[str]:
    table = phrases(language)
    return [p for c in Command if c in table for p in table[c]] + [NUMBERS[language][7]]


def courteous_phrases(language: str) -> list[str]:
    """Each command's first phrase with one of the language's courtesy words (commands.COURTESY),
    before it or after it in turn: "okay next", "please repeat", "skip please", "pain now", ..."""
    before, after = COURTESY[language]
    dress = [(word, "") for word in before] + [("", word) for word in after]
    table = phrases(language)
    out = []
    for i, phrase in enumerate(table[c][0] for c in Command if c in table):
        first, last = dress[i % len(dress)]
        out.append(" ".join(w for w in (first, phrase, last) if w))
    return out + [NUMBERS[language][7]]


TELEPHONE = "clean, 8 kHz device"
QUIET = "clean, quiet microphone"  # -60 dBFS; see corpus.quiet_microphone
MUSIC = "music 20 dB"  # plucked chords; see corpus.music
HUM = "clean, mains hum"  # a 50 Hz buzz with its harmonics, the fundamental at -38 dBFS; see corpus.mains_hum
COURTEOUS = "clean, said with please, okay, now"  # see courteous_phrases
APART = (TELEPHONE, QUIET, HUM, MUSIC, COURTEOUS)  # conditions of their own: not in the overall latency or real-time factor
MUSIC_ALONE = (-41, -21)  # dBFS of music with nobody speaking, for false accepts


def conditions(quick: bool, language: str) -> list[tuple[str, str | None, int | None, bool]]:
    """(label, noise, snr, reverb)."""
    out = [("clean", None, None, False), ("clean+room", None, None, True), (TELEPHONE, None, None, False),
           (QUIET, None, None, False), (HUM, None, None, False)]
    if any(COURTESY[language]):
        out.append((COURTEOUS, None, None, False))
    for kind in NOISES:
        for snr in SNRS:
            if quick and snr != 10:
                continue
            out.append((f"{kind} {snr} dB", kind, snr, False))
        out.append((f"{kind} 10 dB+room", kind, 10, True))
    return out + [(MUSIC, "music", 20, False)]


def degrade(stream: np.ndarray, kind: str | None, snr: int | None, room: bool, babble: np.ndarray, seed: int) -> np.ndarray:
    active = np.abs(stream) > 200
    if room:
        stream = reverb(stream)
        active = np.resize(active, len(stream))
    if kind is not None and snr is not None:
        stream = mix_at_snr(stream, noise(kind, len(stream), seed, babble), snr, active)
    return dither(stream)


SECOND_OPINIONS: list[float] = []  # CPU seconds of each call to the decoder's plausible()


def decode(recognizer, stream: np.ndarray, numbers_from: float | None = None) -> tuple[list, float]:
    """Events for a whole stream, and the CPU seconds spent decoding it. As in a session, the
    numbers 0-10 are listened for only during a pain rating: here from `numbers_from` seconds on."""
    check = recognizer.decoder.plausible

    def timed() -> bool:
        began = time.process_time()
        try:
            return check()
        finally:
            SECOND_OPINIONS.append(time.process_time() - began)

    recognizer.decoder.plausible = timed
    start = time.process_time()
    events = []
    recognizer.listen_for_numbers(False)
    try:
        for chunk in split(AudioChunk(stream, RECOGNIZER_RATE)):
            if numbers_from is not None and chunk.timestamp >= numbers_from:
                recognizer.listen_for_numbers(True)
            events += recognizer.feed(chunk)
        events += recognizer.finish()
    finally:
        # The wrapper refers to the decoder it is stored on; left there, that loop (and the model
        # with it) would wait for Python's cycle collector, and models would pile up in memory.
        del recognizer.decoder.plausible
    return events, time.process_time() - start


def score(events, placed, language: str) -> tuple[int, int, list[tuple[bool, float]]]:
    """Correct commands, wrong or extra events, (interrupting?, latency) of the correct ones."""
    correct, wrong, latencies = 0, 0, []
    used = set()
    for event in events:
        if event.emitted_at < placed[0].start:
            continue  # heard in the guide's own warm-up speech: counted by the non-command test
        match = next((i for i, p in enumerate(placed) if p.start <= event.emitted_at <= p.end + GAP and i not in used), None)
        if match is None:
            wrong += 1
            continue
        used.add(match)
        expected = parse(placed[match].text, language)
        if expected and expected[0] is event.command and expected[1] == event.value:
            correct += 1
            latencies.append((event.command in INTERRUPTING, event.emitted_at - placed[match].end))
        else:
            wrong += 1
    return correct, wrong, latencies


def run_engine(engine: str, language: str, quick: bool, suppress: str, out: multiprocessing.Queue,
               unseen: bool = False) -> None:
    from voiceguide.config import Recognition
    from voiceguide.speech.listening import build_recognizer

    config = Config(recognition=Recognition(noise_suppression=suppress))
    voices = (UNSEEN_VOICES if unseen else VOICES)[language]
    voices = voices[::3] if quick else voices
    t0 = time.perf_counter()
    recognizer = build_recognizer(language, config, engine, announce=False)
    load = time.perf_counter() - t0
    babble_parts = [speak(s, Voice(v, 170), CACHE) for v in BABBLE_VOICES[language] for s in OTHER_PROSE[language]]
    babble = sum(np.resize(p, 60 * RECOGNIZER_RATE).astype(np.float64) for p in babble_parts[:: max(1, len(babble_parts) // 8)])
    rows, all_latencies, audio_seconds, cpu_seconds = [], [], 0.0, 0.0
    by_synth: dict[tuple[str, str], list[int]] = {}  # (clean or one of APART, synthesiser) -> [correct, total]
    for label, kind, snr, room in conditions(quick, language):
        correct = total = wrong = 0
        heard: list[float] = []  # latencies in this condition
        for v, voice in enumerate(voices):
            # The guide talks before anyone gives a command, and the microphone hears it: that
            # warms up the recogniser's running estimates as in a real session.
            warm_up = [("", speak(s, GUIDE_VOICE[language], CACHE)) for s in routine_sentences(language)[:4]]
            said = courteous_phrases(language) if label == COURTEOUS else command_phrases(language)
            pieces = warm_up + [(p, speak(p, voice, CACHE)) for p in said]
            stream, placed = build_stream(pieces, GAP)
            placed = placed[len(warm_up):]
            if label == QUIET:
                stream = quiet_microphone(stream)
            elif label == HUM:
                stream = dither(to_int16(stream + mains_hum(len(stream), seed=v)))
            else:
                stream = degrade(stream, kind, snr, room, babble, seed=v)
            if label == TELEPHONE:
                stream = telephone(stream)
            recognizer = build_recognizer(language, config, engine, announce=False)
            # The number comes last: a pain rating, asked for once pain was heard.
            events, cpu = decode(recognizer, stream, numbers_from=(placed[-2].end + placed[-1].start) / 2)
            c, w, lat = score(events, placed, language)
            correct, wrong, total = correct + c, wrong + w, total + len(placed)
            heard += [seconds for _, seconds in lat]
            if label == "clean" or label in APART:
                tally = by_synth.setdefault((label, voice.synthesiser), [0, 0])
                tally[0], tally[1] = tally[0] + c, tally[1] + len(placed)
            if label in APART:
                continue
            all_latencies += lat
            audio_seconds += len(stream) / RECOGNIZER_RATE
            cpu_seconds += cpu
        rows.append((label, correct, total, wrong, heard))
    other, guide = OTHER_PROSE[language], routine_sentences(language)
    false_accepts, prose_seconds, examples = 0, 0.0, []
    fa_by_synth: dict[str, list[float]] = {}  # synthesiser -> [false accepts, seconds]
    fa_by_source = {"the guide's sentences": [0, 0.0], "other prose": [0, 0.0]}  # -> [false accepts, seconds]
    room_false_accepts, room_examples = 0, []  # over the same prose_seconds of speech
    for voice in voices:
        pieces = [(s, speak(s, voice, CACHE)) for s in other + guide]
        dry, placed = build_stream(pieces, 0.6)
        stream = dither(dry)
        recognizer = build_recognizer(language, config, engine, announce=False)
        events, cpu = decode(recognizer, stream)
        false_accepts += len(events)
        for i, p in enumerate(placed):  # each piece owns the audio up to the next one
            source = fa_by_source["other prose" if i < len(other) else "the guide's sentences"]
            until = placed[i + 1].start if i + 1 < len(placed) else len(stream) / RECOGNIZER_RATE
            source[0] += sum(p.start <= e.emitted_at < until for e in events)
            source[1] += until - p.start
        tally = fa_by_synth.setdefault(voice.synthesiser, [0, 0.0])
        tally[0], tally[1] = tally[0] + len(events), tally[1] + len(stream) / RECOGNIZER_RATE
        examples += [f"{e.text}@{e.emitted_at:.1f}s/{voice.name}" for e in events[:3]]
        prose_seconds += len(stream) / RECOGNIZER_RATE
        audio_seconds += len(stream) / RECOGNIZER_RATE
        cpu_seconds += cpu
        # The same speech in the reverberant room: a room's tail fills a sentence's pauses. Kept out
        # of the figures above (and of the real-time factor) so that they compare with earlier runs.
        recognizer = build_recognizer(language, config, engine, announce=False)
        events, _ = decode(recognizer, degrade(dry, None, None, True, babble, seed=0))
        room_false_accepts += len(events)
        room_examples += [f"{e.text}@{e.emitted_at:.1f}s/{voice.name}" for e in events[:2]]
    music_false_accepts = []
    for i, dbfs in enumerate(MUSIC_ALONE):
        tune = dither(to_int16(noise("music", 180 * RECOGNIZER_RATE, seed=i) * 32768 * 10 ** (dbfs / 20)))
        events, _ = decode(build_recognizer(language, config, engine, announce=False), tune)
        music_false_accepts.append(len(events))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put(dict(engine=engine, language=language, rows=rows, latencies=all_latencies, load=load,
                 rtf=cpu_seconds / audio_seconds, false_accepts=false_accepts, prose_seconds=prose_seconds,
                 peak_mb=peak_mb, voices=len(voices), examples=examples[:6], suppress=suppress,
                 by_synth=by_synth, fa_by_synth=fa_by_synth, fa_by_source=fa_by_source,
                 second_opinions=SECOND_OPINIONS, room_false_accepts=room_false_accepts,
                 room_examples=room_examples[:6], music_false_accepts=music_false_accepts))


def report(r: dict) -> None:
    name = f"{r['engine']}-{r['language']}"
    targets = TARGETS.get(r["language"], {})
    def ms(pick) -> np.ndarray:  # noqa: ANN001
        chosen = [x for urgent, x in r["latencies"] if pick(urgent)]
        return np.array(chosen) * 1000 if chosen else np.array([np.nan])

    lat, fast, other = ms(lambda u: True), ms(lambda u: u), ms(lambda u: not u)
    print(f"\n## {name}, noise suppression {r['suppress']}  "
          f"({r['voices']} voices; {len(command_phrases(r['language']))} phrases each)\n")
    print("| condition | correct | of | accuracy | wrong/extra | latency p50 / p95 (ms) |")
    print("|---|---|---|---|---|---|")
    for label, correct, total, wrong, heard in r["rows"]:
        p50, p95 = np.percentile(np.array(heard) * 1000, [50, 95]) if heard else (np.nan, np.nan)
        print(f"| {label} | {correct} | {total} | {correct / total:.1%} | {wrong} | {p50:.0f} / {p95:.0f} |")
    fa_hour = r["false_accepts"] / (r["prose_seconds"] / 3600)
    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    clean = next(row for row in r["rows"] if row[0] == "clean")
    ten = [row for row in r["rows"] if row[0].endswith(" 10 dB")]
    print(f"| accuracy clean | {clean[1] / clean[2]:.1%} | {targets.get('clean', '-')} |")
    if ten:
        print(f"| accuracy 10 dB (white, pink, babble) | {sum(x[1] for x in ten) / sum(x[2] for x in ten):.1%} | {targets.get(10, '-')} |")
    print(f"| false accepts, non-command speech | {r['false_accepts']} in {r['prose_seconds'] / 60:.1f} min = {fa_hour:.1f}/hour | {targets.get('fa_per_hour', '-')} |")
    latency_target = f"p95 {targets['p95'] * 1000:.0f}" if "p95" in targets else "-"
    for name, values in (("all commands", lat), ("pain, stop, pause", fast), ("other commands", other)):
        print(f"| latency p50 / p95, {name} (ms of audio) | {np.nanpercentile(values, 50):.0f} / "
              f"{np.nanpercentile(values, 95):.0f} | {latency_target} |")
    room_hour = r["room_false_accepts"] / (r["prose_seconds"] / 3600)
    print(f"| false accepts, the same speech in the room | {r['room_false_accepts']} in {r['prose_seconds'] / 60:.1f} min = "
          f"{room_hour:.1f}/hour | {targets.get('fa_per_hour', '-')} |")
    print(f"| false accepts, music alone (3 min at each of {', '.join(f'{d} dBFS' for d in MUSIC_ALONE)}) | "
          f"{', '.join(str(n) for n in r['music_false_accepts'])} | - |")
    for (label, synth), (correct, total) in sorted(r["by_synth"].items()):
        if label in APART:
            print(f"| {synth} voices: accuracy {label} | {correct / total:.1%} | - |")
            continue
        fa, seconds = r["fa_by_synth"].get(synth, (0, 1.0))
        print(f"| {synth} voices: accuracy clean; false accepts | {correct / total:.1%}; "
              f"{fa / (seconds / 3600):.1f}/hour | - |")
    for source, (fa, seconds) in r["fa_by_source"].items():
        print(f"| false accepts in {source} | {fa} in {seconds / 60:.1f} min = {fa / (seconds / 3600):.1f}/hour | - |")
    if r["second_opinions"]:
        cpu = np.array(r["second_opinions"]) * 1000
        print(f"| second opinion, CPU per check p50 / p95 (ms; {len(cpu)} checks) | "
              f"{np.percentile(cpu, 50):.0f} / {np.percentile(cpu, 95):.0f} | - |")
    print(f"| real-time factor (one core) | {r['rtf']:.3f} | {targets.get('rtf', '-')} |")
    print(f"| model load (s) | {r['load']:.2f} | {targets.get('load', '-')} |")
    print(f"| peak memory (MB) | {r['peak_mb']:.0f} | - |")
    if r["examples"]:
        print(f"\nfalse accepts, first few: {', '.join(r['examples'])}")
    if r["room_examples"]:
        print(f"in the room: {', '.join(r['room_examples'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="pocketsphinx-en,vosk-ko", help="comma-separated ENGINE-LANGUAGE")
    parser.add_argument("--quick", action="store_true", help="every third voice, 10 dB only")
    parser.add_argument("--noise-suppression", choices=("auto", "always", "never"), default="auto",
                        help="WebRTC noise suppression (recognition.noise_suppression)")
    parser.add_argument("--voices", choices=("standard", "unseen"), default="standard",
                        help="the voices everything was tuned on, or Festival voices it was not (English)")
    args = parser.parse_args()
    unseen = args.voices == "unseen"
    print(f"command: {' '.join(sys.argv)}")
    for spec in args.engines.split(","):
        engine, language = spec.rsplit("-", 1)
        if unseen and language not in UNSEEN_VOICES:
            parser.error(f"--voices unseen: no unseen voices for {language!r}")
        queue: multiprocessing.Queue = multiprocessing.Queue()
        child = multiprocessing.Process(target=run_engine, args=(engine, language, args.quick, args.noise_suppression, queue, unseen))
        child.start()
        result = queue.get()
        child.join()
        report(result)


if __name__ == "__main__":
    main()


