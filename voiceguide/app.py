"""Wiring for each subcommand: load settings, build the parts, run them, print results."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from voiceguide import __version__, review
from voiceguide import events as ev
from voiceguide.cli import UserError
from voiceguide.commands import normalise
from voiceguide.config import Config, find_config, load_config
from voiceguide.journal import Journal, list_logs, new_log_path, read_log, summarise
from voiceguide.plan import lone_commands
from voiceguide.routine import Routine, find_routine, load_routine, routine_files
from voiceguide.session import Session, Settings


def _config(args: argparse.Namespace) -> Config:
    return load_config(find_config(args.config))


def _load_routine(name: str, config: Config) -> Routine:
    search = (config.routines_dir,)
    path = find_routine(name, search)
    if path is None:
        known = ", ".join(sorted(routine_files(search)))
        raise UserError(f"no routine named {name!r}. Known routines: {known}. Or give a path to a YAML file.")
    return load_routine(path, search)


# --- run --------------------------------------------------------------------------------
ECHO_PATH = "echo-path.npz"  # the echo canceller's learned path, kept beside the session logs


def cmd_run(args: argparse.Namespace) -> int:
    from voiceguide import devices
    from voiceguide.history import advice_for, load_sessions
    from voiceguide.runner import Runner
    from voiceguide.speech.listening import LISTENER, keep_listener, resume_listener

    config = _config(args)
    routine = _load_routine(args.routine, config)
    source, input_name = devices.open_input(args.input, routine.language, config, args.engine)
    speaker, voice_name = devices.open_voice(args.voice, routine.language, config)
    if args.echo_gain is not None:
        from voiceguide.speech.echo import EchoingSpeaker, EchoTap
        from voiceguide.speech.tts import Renderer

        if not args.input.startswith("wav:"):
            raise UserError("--echo-gain mixes the guide's voice into a recording: use it with --input wav:PATH.")
        tap = EchoTap(Renderer(routine.language, config.voice_rate), args.echo_gain, args.echo_delay)
        source.echo = tap  # type: ignore[attr-defined]
        speaker = EchoingSpeaker(speaker, tap)
    playback = getattr(speaker, "playback", None)  # set when real or mixed-in sound is played
    recognizer = getattr(source, "recognizer", None)
    log_dir = args.log_dir or config.log_dir
    canceller = None
    if playback is not None and recognizer is not None:
        recognizer.playback = playback
    if config.recognition.echo_cancel and playback is not None and recognizer is not None:
        from voiceguide.speech.echo import EchoCanceller

        canceller = recognizer.canceller = EchoCanceller(playback)
        problem = canceller.restore(log_dir / ECHO_PATH)
        if problem:
            print(f"voiceguide: {problem}", file=sys.stderr)
    if recognizer is not None:
        problem = resume_listener(recognizer, log_dir / LISTENER)
        if problem:
            print(f"voiceguide: {problem}", file=sys.stderr)
    past, _ = load_sessions(log_dir) if log_dir.is_dir() else ([], [])
    started = datetime.now().astimezone()
    session_id, path = new_log_path(log_dir, routine.id, started)
    journal = Journal(path)
    journal.write(ev.SessionHeader(
        0.0, ev.SCHEMA_VERSION, session_id, routine.id, routine.name, started.isoformat(timespec="seconds"),
        __version__, config.digest(), input_name, voice_name,
        tuple({"id": e.id, "name": e.name} for e in routine.exercises)))
    settings = Settings(beat=config.counting.beat_seconds, beat_min=config.counting.fastest_beat,
                        beat_max=config.counting.slowest_beat, beat_step=config.counting.step,
                        pain_rating_timeout=config.pain_rating_timeout)
    session = Session(routine, settings, advice_for([p for p in past if p["routine"] == routine.id]))
    Runner(session, speaker, journal, source, config.recognition.echo_threshold).run()
    if canceller is not None:
        try:
            canceller.save(log_dir / ECHO_PATH)
        except OSError as exc:  # the session and its log are complete; only the head start is lost
            print(f"voiceguide: could not keep the learned echo path in {log_dir / ECHO_PATH}: {exc.strerror}",
                  file=sys.stderr)
    if recognizer is not None:
        try:
            keep_listener(recognizer, log_dir / LISTENER)
        except OSError as exc:
            print(f"voiceguide: could not keep what listening learned in {log_dir / LISTENER}: {exc.strerror}",
                  file=sys.stderr)
    print(f"voiceguide: session log {path}", file=sys.stderr)
    return 0


# --- listen -----------------------------------------------------------------------------
def cmd_listen(args: argparse.Namespace) -> int:
    from voiceguide.speech.audio import Converter, WavFile
    from voiceguide.speech.listening import build_recognizer, listen_file
    from voiceguide.speech.recognizer import energy

    config = _config(args)
    wav = WavFile.open(args.path)  # fails early, naming the file, if it is not a WAV
    recognizer = build_recognizer(args.language or config.language, config, args.engine)
    converter = Converter()
    events = listen_file(args.path, recognizer, converter)
    for finding, _ in converter.findings():
        print(f"voiceguide: {args.path}: {finding}", file=sys.stderr)
    for event in events:
        if args.json:
            print(json.dumps(event.to_dict(), ensure_ascii=False))
        else:
            print(f"{event.word_end:8.2f}s  {event.command.value:<8} {event.text!r} "
                  f"(confidence {event.confidence:.2f}, heard at {event.emitted_at:.2f}s)")
    if not events:
        level = max((energy(block) for block in wav.blocks()), default=-120.0)  # its loudest 10 s
        why = f"it is silent ({level:.0f} dBFS)" if level < -60 else "no command was heard"
        # What was heard and why it was not obeyed tells a person what to change (say it alone,
        # closer to the microphone, in a quieter room).
        near = [f"{text!r} ({reason})" for text, reason in recognizer.rejected if text][:5]
        if near:
            why += "; not taken for a command: " + ", ".join(near)
        print(f"voiceguide: {args.path}: {why}.", file=sys.stderr)
    return 0


# --- routines ---------------------------------------------------------------------------
def cmd_routines(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.action == "list":
        for name, path in routine_files((config.routines_dir,)).items():
            try:
                routine = load_routine(path, (config.routines_dir,))
                where = "built-in" if path.parent.name == "routines" and "voiceguide" in path.parts else str(path)
                print(f"{name:<22} {len(routine.exercises):>2} moves  {routine.name}  ({where})")
            except ValueError as exc:
                print(f"{name:<22} BROKEN: {exc}")
        return 0
    if args.action == "show":
        print(review.routine_text(_load_routine(args.name, config)))
        return 0
    routine = load_routine(args.path, (config.routines_dir,))
    reps = sum(e.reps_target for e in routine.exercises)
    print(f"{args.path}: OK. {routine.name}: {len(routine.exercises)} moves, {reps} reps in all.")
    for sentence, phrase in lone_commands(routine):
        print(f"voiceguide: {_where_said(routine, sentence)} {sentence!r} says {phrase!r} on its own between pauses, "
              f"so the guide may take its own voice for that command. Say it inside a sentence "
              f"(\"Stop if it hurts.\", not \"If it hurts, stop.\").", file=sys.stderr)
    return 0


def _where_said(routine: Routine, sentence: str) -> str:
    """`file:line:` of the routine line that holds a sentence, or `file:` when it is made up of parts."""
    if routine.source is None:
        return "the routine:"
    wanted = normalise(sentence)
    lines = routine.source.read_text(encoding="utf-8").splitlines()
    line = next((n for n, text in enumerate(lines, 1) if wanted in normalise(text)), None)
    return f"{routine.source}:{line}:" if line else f"{routine.source}:"


# --- log --------------------------------------------------------------------------------
def _log_dir(args: argparse.Namespace) -> Path:
    return args.log_dir or _config(args).log_dir


def _find_log(log_dir: Path, ident: str) -> Path:
    logs = list_logs(log_dir)
    if not logs:
        raise UserError(f"no session logs in {log_dir}.")
    if ident == "last":
        return max(logs, key=lambda p: (p.stat().st_mtime, p.name))
    matches = [p for p in logs if p.stem == ident] or [p for p in logs if p.stem.startswith(ident)]
    if len(matches) != 1:
        problem = "matches no session" if not matches else f"matches {len(matches)} sessions"
        raise UserError(f"{ident!r} {problem} in {log_dir}; see `voiceguide log list`.")
    return matches[0]


def cmd_log(args: argparse.Namespace) -> int:
    log_dir = _log_dir(args)
    if args.action == "list":
        sessions = [summarise(read_log(p)) for p in list_logs(log_dir)]
        print(review.session_table(sessions) if sessions else f"No session logs in {log_dir}.")
        return 0
    if args.action == "summary":
        return _summary(args, log_dir)
    if args.action in ("show", "last"):
        ident = "last" if args.action == "last" else args.id
        log = read_log(_find_log(log_dir, ident))
        for warning in log.warnings:
            print(f"voiceguide: {warning}", file=sys.stderr)
        data = summarise(log)
        print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else review.session_text(data))
        return 0
    sessions = []
    for path in list_logs(log_dir):
        log = read_log(path)
        for warning in log.warnings:
            print(f"voiceguide: {warning}", file=sys.stderr)
        sessions.append(summarise(log))
    if args.json:
        for data in sessions:
            print(json.dumps(data, ensure_ascii=False))
    else:
        review.write_csv(sessions, sys.stdout)
    return 0


def _history(args: argparse.Namespace, log_dir: Path):  # noqa: ANN202 - (Review, sessions)
    from voiceguide.history import load_sessions
    from voiceguide.history import review as review_history

    config = _config(args)
    sessions, notes = load_sessions(log_dir)
    for note in notes:
        print(f"voiceguide: {note}", file=sys.stderr)
    if not sessions:
        raise UserError(f"no session logs in {log_dir}.")
    return review_history(sessions, config.sessions_per_week, args.weeks, routine=args.routine, notes=notes), sessions


def _summary(args: argparse.Namespace, log_dir: Path) -> int:
    from voiceguide.history import spoken

    result, _ = _history(args, log_dir)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(review.history_text(result))
    if args.say:
        from voiceguide import devices

        speaker, _ = devices.open_voice("auto", "en", _config(args))
        speaker.say(spoken(result), 0.0)
        speaker.close()
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from voiceguide import report

    log_dir = _log_dir(args)
    result, sessions = _history(args, log_dir)
    if args.routine:
        sessions = [s for s in sessions if s["routine"] == args.routine]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.render(result, sessions), encoding="utf-8")
    print(f"voiceguide: report written to {args.out}", file=sys.stderr)
    if args.csv:
        args.csv.mkdir(parents=True, exist_ok=True)
        with open(args.csv / "sessions.csv", "w", newline="", encoding="utf-8") as f:
            review.write_csv(sessions, f)
        print(f"voiceguide: per-exercise results written to {args.csv / 'sessions.csv'}", file=sys.stderr)
    return 0


# --- models and devices -----------------------------------------------------------------
def cmd_model(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from voiceguide import fetch
    from voiceguide.commands import LANGUAGES
    from voiceguide.models import choose_engine

    config = _config(args)
    if args.action == "fetch":
        archive = fetch.ENGLISH_SMALL
        if args.url:
            if not args.sha256:
                raise UserError("--url needs --sha256: every archive is checked before it is unpacked.")
            archive = replace(archive, url=args.url, sha256=args.sha256.lower())
        fetch.fetch(archive, config.models_dir)
        return 0
    print(f"models folder: {config.models_dir}")
    for language in LANGUAGES:
        try:
            _, _, why = choose_engine(config.recognition.engine, language, config.models_dir)
        except RuntimeError as exc:
            why = f"cannot listen: {exc}"
        print(f"  {language}: {why}")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from voiceguide.devices import audio_devices

    for kind in ("input", "output"):
        found, why = audio_devices(kind)
        print(f"{kind}s:" if found else f"{kind}s: none ({why})")
        for d in found:
            print(f"  {d['name']}  ({d[f'max_{kind}_channels']} ch, {d['default_samplerate']:.0f} Hz)")
    return 0


def _try_input(wanted: str) -> tuple[bool, str]:
    """(fine, what was found) for the microphone a session would open, from a moment of its sound."""
    import numpy as np

    from voiceguide.speech.audio import AudioChunk, DcBlock, to_int16, to_recognizer_format
    from voiceguide.speech.hum import HumFilter
    from voiceguide.speech.listening import sample_microphone
    from voiceguide.speech.recognizer import Levels

    seconds = 1.5
    try:
        blocks = sample_microphone(wanted, seconds)
    except Exception as exc:  # noqa: BLE001 - PortAudio raises its own error type
        return False, (f"listed, but it does not open ({exc}). Another program may be using it "
                       "(`fuser -v /dev/snd/*` names it); close that, or unplug the device and plug it back in")
    if not blocks:
        return False, (f"opened, but sent no sound in {seconds} s: its driver or the sound server is stuck; "
                       "unplug it and plug it back in")
    rate, channels = blocks[0].rate, blocks[0].channels
    samples = np.concatenate([b.samples for b in blocks])
    if not samples.any():
        return False, ("sends nothing but digital silence: it is muted (a speakerphone's mute button, or the "
                       "capture switch in alsamixer); a session would wait, paused, until it is unmuted")
    offset = float(samples.mean())
    mono = DcBlock().process(to_recognizer_format(AudioChunk(samples, rate, channels)).samples)
    hum = HumFilter()
    heard = hum.process(mono)  # as listening hears it: a hum's lines found in the first 0.5 s, then taken away
    level = Levels.level(to_int16(heard[len(heard) // 2 :]).tobytes())  # once they are
    detail = f"{rate} Hz, {channels} channel(s); the room at {level:.0f} dBFS"
    if hum.found:
        detail += (f"; mains hum at {hum.mains:.0f} Hz ({len(hum.found)} lines), which listening takes away (a microphone "
                   "lead kept clear of mains leads and adapters, or a ground-loop isolator, stops it)")
    if level > Levels.NOISY:
        detail += " (noisy: commands are heard less well; a quieter room, or the microphone nearer, helps)"
    if abs(offset) > 300:
        detail += f"; a DC offset of {offset:.0f}, which listening takes away"
    return True, detail


def _try_output(device: dict, rate: int | None) -> tuple[bool, str]:
    """(fine, what was found) for a loudspeaker, opened as playing the guide's voice (mono, at
    `rate`) would open it."""
    import sounddevice

    try:
        sounddevice.check_output_settings(device=device["index"], channels=1, samplerate=rate)
    except Exception as exc:  # noqa: BLE001 - PortAudio raises its own error type
        return False, (f"listed, but it does not open ({exc}). Another program may be using it; close that, "
                       "or unplug the device and plug it back in")
    return True, f"opens ({rate or device['default_samplerate']:.0f} Hz)"


def cmd_doctor(args: argparse.Namespace) -> int:
    """Checks each part a session needs; prints OK or what to fix. Exit 1 if anything is missing."""
    from voiceguide.devices import audio_devices, pick_device
    from voiceguide.models import choose_engine
    from voiceguide.speech.audio import AudioChunk, BandCheck
    from voiceguide.speech.tts import Renderer

    config = _config(args)
    problems = 0

    def report_line(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += not ok
        print(f"{'OK ' if ok else 'FIX'} {what}: {detail}")

    report_line(True, "settings", str(config.source or "defaults (no config.yaml found)"))
    try:  # the guide's voice, rendered first: the loudspeaker is tried at its rate
        rendered: AudioChunk | RuntimeError = Renderer(config.language, config.voice_rate).render("ready")
    except RuntimeError as exc:
        rendered = exc
    for kind, what, fallback in (("input", "microphone", "typed commands"), ("output", "loudspeaker", "printed speech")):
        # The device a session would open: a name in config.yaml that matches nothing is as
        # good as no device at all.
        try:
            device = pick_device(kind, getattr(config.audio, f"{kind}_device"))
        except UserError as exc:
            advice = ("" if audio_devices(kind)[0] else
                      f"; plug in a USB {what} or speakerphone and see `voiceguide devices`")
            report_line(False, f"audio {kind}", f"{exc}{advice}; until then a session uses {fallback}")
            continue
        finding = None
        if kind == "input":  # a microphone opened at a telephone rate is heard with a band missing
            band = BandCheck()
            band.hear_rate(int(device["default_samplerate"]))
            finding = band.take()
        if finding:
            report_line(False, f"audio {kind}", f"{device['name']}: {finding}")
            continue
        # Listed is not working: a device another program holds, or one muted at its button,
        # is listed all the same. So it is opened (and a microphone heard) as a session would.
        ok, detail = (_try_input(config.audio.input_device) if kind == "input" else
                      _try_output(device, None if isinstance(rendered, RuntimeError) else rendered.rate))
        report_line(ok, f"audio {kind}", f"{device['name']}: {detail}")
    if isinstance(rendered, RuntimeError):
        report_line(False, "speech output", str(rendered))
    else:
        report_line(True, "speech output", f"pyttsx3 renders speech ({rendered.seconds:.2f} s for one word)")
    try:
        from voiceguide.speech.listening import build_recognizer

        _, _, why = choose_engine(config.recognition.engine, config.language, config.models_dir)
        build_recognizer(config.language, config, announce=False)
        report_line(True, "listening", why)
    except (RuntimeError, ValueError) as exc:
        report_line(False, "listening", str(exc))
    log_dir = config.log_dir
    writable = os.access(log_dir if log_dir.exists() else log_dir.parent if log_dir.parent.exists() else Path.home(), os.W_OK)
    report_line(writable, "session logs", f"{log_dir}" + ("" if writable else " is not writable"))
    return 1 if problems else 0
