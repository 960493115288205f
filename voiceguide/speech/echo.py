"""The guide hearing itself.

EchoTap keeps what the guide said as 16 kHz samples on the session clock, so a test or a
benchmark can mix the guide's own voice back into a recording (`run --echo-gain --echo-delay`).
own_words() is the rule the runner applies: a command whose words are in the sentence the
guide was saying at that moment is its own echo, unless it is urgent (pain, stop) or heard
with high confidence. Other commands said over the guide's voice are obeyed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voiceguide.commands import URGENT, CommandEvent, normalise
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, to_recognizer_format
from voiceguide.speech.tts import Renderer


@dataclass(frozen=True)
class Spoken:
    start: float  # session seconds
    end: float
    text: str


def own_words(event: CommandEvent, spoken: list[Spoken], threshold: float, margin: float = 0.6) -> bool:
    """True when `event` is most likely the guide's own voice coming back through the microphone."""
    if event.command in URGENT or event.confidence >= threshold:
        return False
    phrase = f" {normalise(event.text)} "
    return any(s.start - margin <= event.word_end <= s.end + margin and phrase in f" {normalise(s.text)} "
               for s in spoken)


class EchoTap:
    def __init__(self, renderer: Renderer, gain_db: float, delay_ms: float) -> None:
        self.renderer = renderer
        self.gain = 10 ** (gain_db / 20)
        self.delay = delay_ms / 1000
        self.pieces: list[tuple[float, np.ndarray]] = []  # (start seconds, 16 kHz float samples)

    def said(self, text: str, at: float) -> float:
        audio = to_recognizer_format(self.renderer.render(text))
        self.pieces.append((at + self.delay, audio.samples.astype(np.float32) * self.gain))
        return audio.seconds

    def stopped(self, at: float) -> None:
        if self.pieces:
            start, samples = self.pieces[-1]
            self.pieces[-1] = (start, samples[: max(0, int((at + self.delay - start) * RECOGNIZER_RATE))])

    def mix(self, chunk: AudioChunk) -> AudioChunk:
        out = chunk.samples.astype(np.float32)
        first = int(round(chunk.timestamp * RECOGNIZER_RATE))
        for start, samples in self.pieces[-4:]:  # only the latest utterances can still be sounding
            offset = int(round(start * RECOGNIZER_RATE)) - first
            lo, hi = max(0, offset), min(len(out), offset + len(samples))
            if lo < hi:
                out[lo:hi] += samples[lo - offset : hi - offset]
        return AudioChunk(np.clip(np.round(out), -32768, 32767).astype(np.int16), chunk.rate, 1, chunk.timestamp)


class EchoingSpeaker:
    """A speaker that also feeds an EchoTap; speech lasts as long as its rendering."""

    def __init__(self, inner, tap: EchoTap) -> None:  # noqa: ANN001 - any Speaker
        self.inner, self.tap = inner, tap

    def say(self, text: str, at: float) -> float:
        self.inner.say(text, at)
        return self.tap.said(text, at)

    def stop(self, at: float) -> None:
        self.inner.stop(at)
        self.tap.stopped(at)

    def close(self) -> None:
        self.inner.close()
