"""Speakers: where the guide's words go. Print, WAV timeline, or a live sound device.

Protocol: say(text, at) starts speaking at session time `at` (seconds) and returns how long
the speech lasts; stop(at) cuts whatever is being said at `at`; present(at) is whether the
person can hear it (a lost loudspeaker is looked for again there); troubles() gives what went
wrong with the equipment since last asked, for the log; close() finishes up.
The runner never asks a speaker to speak over itself: it starts each utterance once the
previous one has ended, so every speaker can treat its input as a sequence.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from voiceguide.speech.audio import AudioChunk, write_wav
from voiceguide.speech.tts import Renderer


class Speaker(Protocol):
    def say(self, text: str, at: float) -> float: ...

    def stop(self, at: float) -> None: ...

    def present(self, at: float) -> bool: ...

    def troubles(self) -> list[str]: ...

    def close(self) -> None: ...


def estimate_seconds(text: str, rate_wpm: int) -> float:
    """Rough speaking time of text at a words-per-minute rate (used when nothing is rendered)."""
    return 0.15 + len(text.split()) * 60.0 / rate_wpm


class PrintSpeaker:
    """Prints timestamped lines; durations are estimated from the speaking rate."""

    def __init__(self, rate_wpm: int = 160, out: TextIO = sys.stdout) -> None:
        self.rate_wpm = rate_wpm
        self.out = out
        self.busy_until = 0.0

    def say(self, text: str, at: float) -> float:
        print(f"[{_clock(at)}] {text}", file=self.out, flush=True)
        seconds = estimate_seconds(text, self.rate_wpm)
        self.busy_until = at + seconds
        return seconds

    def stop(self, at: float) -> None:
        if at < self.busy_until:
            print(f"[{_clock(at)}] (stops speaking)", file=self.out, flush=True)
        self.busy_until = at

    def present(self, at: float) -> bool:
        return True

    def troubles(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


class WavSpeaker:
    """Renders everything said onto one WAV timeline at the times it was said."""

    def __init__(self, path: Path, renderer: Renderer, echo: TextIO | None = None) -> None:
        self.path = path
        self.renderer = renderer
        self.echo = echo
        self.pieces: list[tuple[float, np.ndarray]] = []  # (start seconds, samples)
        self.rate = 0

    def say(self, text: str, at: float) -> float:
        audio = self.renderer.render(text)
        self.rate = audio.rate
        self.pieces.append((at, audio.samples))
        if self.echo:
            print(f"[{_clock(at)}] {text}", file=self.echo, flush=True)
        return audio.seconds

    def stop(self, at: float) -> None:
        if self.pieces:
            start, samples = self.pieces[-1]
            keep = max(0, int((at - start) * self.rate))
            self.pieces[-1] = (start, samples[:keep])

    def present(self, at: float) -> bool:
        return True

    def troubles(self) -> list[str]:
        return []

    def timeline(self) -> AudioChunk:
        rate = self.rate or 16000
        end = max((int(s * rate) + len(x) for s, x in self.pieces), default=0)
        mix = np.zeros(end, np.int32)
        for start, samples in self.pieces:
            i = int(start * rate)
            mix[i : i + len(samples)] += samples
        return AudioChunk(np.clip(mix, -32768, 32767).astype(np.int16), rate)

    def close(self) -> None:
        write_wav(self.path, self.timeline())


class LiveSpeaker:
    """pyttsx3-rendered speech played through sounddevice, which can stop mid-word.

    A loudspeaker unplugged (or a Bluetooth one switched off) mid-session makes playing fail.
    Each sentence is then printed instead, and present() is False until the device is found
    again: looked for by name (`wanted`, as audio.output_device) at most every RETRY seconds,
    since a replugged device may come back under another number, and opened to be sure. The
    runner pauses the session meanwhile. Both happenings are kept for the log (troubles()).
    """

    RETRY = 3.0  # seconds of session time between looks for a lost loudspeaker

    def __init__(self, renderer: Renderer, device: str | int | None = None, wanted: str = "",
                 out: TextIO = sys.stdout) -> None:
        import sounddevice

        from voiceguide.speech.echo import Playback

        self.sd = sounddevice
        self.renderer = renderer
        self.device = device
        self.wanted = wanted
        self.out = out
        self.playback = Playback()  # what was played when: the echo canceller's reference
        self.lost = False
        self.rate: int | None = None  # of the guide's rendered voice, once known
        self.looked_at = -math.inf
        self.notes: list[str] = []

    def say(self, text: str, at: float) -> float:
        audio = self.renderer.render(text)
        self.rate = audio.rate
        # The runner starts an utterance only when the last has ended, so playing now is on time.
        if self._play(audio, at):
            self.playback.played(audio, at)
        else:
            print(f"[{_clock(at)}] {text}", file=self.out, flush=True)  # unheard, but not lost
        return audio.seconds

    def present(self, at: float) -> bool:
        if not self.lost or at - self.looked_at < self.RETRY:
            return not self.lost
        self.looked_at = at
        from voiceguide.devices import pick_device

        try:
            device = pick_device("output", self.wanted)["index"]
            # Opened as play() opens it (mono, at the voice's rate): listed is not yet working.
            self.sd.check_output_settings(device=device, channels=1, samplerate=self.rate)
        except Exception:  # noqa: BLE001 - not there yet; a UserError or PortAudio's own error
            return False
        self.device, self.lost = device, False
        self.notes.append("loudspeaker: back; speaking again")
        return True

    def _play(self, audio: AudioChunk, at: float) -> bool:
        if not self.present(at):
            return False
        try:
            self.sd.play(audio.samples, audio.rate, device=self.device)
        except Exception as exc:  # noqa: BLE001 - PortAudio raises its own error type
            if not self.lost:
                self.lost, self.looked_at = True, at
                self.notes.append(f"loudspeaker: cannot play ({exc}); printing what the guide says until it is back")
            return False
        return True

    def troubles(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def stop(self, at: float) -> None:
        self.sd.stop()
        self.playback.cut(at)

    def close(self) -> None:
        self.sd.stop()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):02d}:{secs:05.2f}"
