"""Choosing where commands come from and where speech goes, with plain messages when a
device is missing: the guide still runs (typed commands, printed speech, WAV in/out)."""

from __future__ import annotations

import sys
from pathlib import Path

from voiceguide.cli import UserError
from voiceguide.config import Config
from voiceguide.inputs import CommandSource, KeyboardSource, ScriptSource, read_script
from voiceguide.speech.speaker import PrintSpeaker, Speaker


def say_notice(message: str) -> None:
    print(f"voiceguide: {message}", file=sys.stderr, flush=True)


def audio_devices(kind: str) -> tuple[list[dict], str]:
    """Devices of `kind` ("input" or "output") and, when there are none, why."""
    try:
        import sounddevice
    except OSError as exc:  # PortAudio itself is missing
        return [], f"PortAudio is not installed ({exc}); sudo apt-get install libportaudio2"
    try:
        found = [dict(d, index=i) for i, d in enumerate(sounddevice.query_devices())
                 if d[f"max_{kind}_channels"] > 0]
    except Exception as exc:  # PortAudio raises its own error type when the host has no audio
        return [], f"PortAudio cannot list devices ({exc})"
    return found, "" if found else f"no audio {kind} device found"


def pick_device(kind: str, wanted: str) -> dict:
    """The device whose name contains `wanted` (any if empty); UserError naming what exists."""
    found, why = audio_devices(kind)
    if not found:
        raise UserError(why)
    if not wanted:
        return found[0]
    for device in found:
        if wanted.lower() in device["name"].lower():
            return device
    names = "; ".join(d["name"] for d in found)
    raise UserError(f"no audio {kind} device matches {wanted!r} (audio.{kind}_device in config.yaml). "
                    f"Devices: {names}")


def open_input(spec: str, language: str, config: Config, engine: str | None) -> tuple[CommandSource, str]:
    kind, _, arg = spec.partition(":")
    if kind == "script":
        return ScriptSource(read_script(Path(arg), language)), spec
    if kind == "keyboard":
        return KeyboardSource(language), "keyboard"
    if kind == "wav":
        from voiceguide.speech import listening

        return listening.wav_source(Path(arg), language, config, engine), spec
    if kind in ("mic", "auto"):
        found, why = audio_devices("input")
        if found:
            from voiceguide.speech import listening

            try:
                return listening.mic_source(language, config, engine), "mic"
            except UserError:
                raise
            except Exception as exc:  # noqa: BLE001 - PortAudio raises its own error type
                name = pick_device("input", config.audio.input_device)["name"]  # listed a moment ago
                raise UserError(f"cannot open the microphone {name!r} ({exc}). Another "
                                "program may be using it (`fuser -v /dev/snd/*` names it), or it is not ready: "
                                "close that program, or unplug the device and plug it back in; "
                                "`voiceguide doctor` checks it. Or use --input keyboard.") from None
        if kind == "mic":
            raise UserError(f"cannot listen: {why}. Use --input keyboard, wav:PATH or script:PATH.")
        say_notice(f"{why}; type commands instead (one per line, e.g. next, pain, stop).")
        return KeyboardSource(language), "keyboard"
    raise UserError(f"unknown --input {spec!r}; use {', '.join(('mic', 'keyboard', 'wav:PATH', 'script:PATH'))}.")


def open_voice(spec: str, language: str, config: Config) -> tuple[Speaker, str]:
    kind, _, arg = spec.partition(":")
    if kind == "print":
        return PrintSpeaker(config.voice_rate), "print"
    if kind == "wav":
        from voiceguide.speech.speaker import WavSpeaker
        from voiceguide.speech.tts import Renderer

        return WavSpeaker(Path(arg), Renderer(language, config.voice_rate), echo=sys.stdout), spec
    if kind in ("pyttsx3", "auto"):
        found, why = audio_devices("output")
        if not found:
            if kind == "pyttsx3":
                raise UserError(f"cannot speak: {why}. Use --voice print or --voice wav:PATH.")
            say_notice(f"{why}; printing what the guide says instead.")
            return PrintSpeaker(config.voice_rate), "print"
        from voiceguide.speech.speaker import LiveSpeaker
        from voiceguide.speech.tts import Renderer

        device = pick_device("output", config.audio.output_device)
        return LiveSpeaker(Renderer(language, config.voice_rate), device["index"], config.audio.output_device), "pyttsx3"
    raise UserError(f"unknown --voice {spec!r}; use pyttsx3, print or wav:PATH.")
