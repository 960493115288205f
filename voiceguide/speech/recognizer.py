"""Command recognition: the Recognizer protocol and the engine-independent spotter.

A person says a command on its own, between pauses; the guide's routines and other speech
contain the same words inside longer sentences ("stop if your knees hurt"). So a command is
obeyed only when a whole stretch of speech, bounded by silence, is one command phrase:

  audio -> voice activity endpointer -> one utterance at a time -> engine decoder
        -> the utterance's words must be exactly one phrase, short enough, confident enough.

The endpointer closes an utterance after a short silence (window * ratio, 180 ms), far sooner
than an engine's own end-of-utterance rule, which keeps the delay after the last word small.
Pain, stop and pause cut the guide's speech, so they are not kept waiting that long: after
`early` seconds of silence the decoder's partial result is read, and if it is one of them the
utterance ends there.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voiceguide.commands import INTERRUPTING, URGENT, CommandEvent, phrase_index
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk

if TYPE_CHECKING:
    from voiceguide.speech.echo import EchoCanceller

PREROLL = 0.3  # seconds of audio before the detected speech start given to the decoder
SHORT = 1.0  # seconds; speech this short holds no sentence around a command word


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the utterance start
    end: float
    confidence: float


class Decoder(Protocol):
    """One engine, decoding one utterance at a time (16 kHz mono int16 bytes)."""

    name: str

    def start(self) -> None: ...

    def process(self, pcm: bytes) -> None: ...

    def end(self) -> list[Word]: ...

    def partial(self) -> str: ...  # the words of the current utterance so far


class Recognizer(Protocol):
    """feed() 16 kHz mono chunks in order; get the commands they completed."""

    def feed(self, chunk: AudioChunk) -> list[CommandEvent]: ...

    def finish(self) -> list[CommandEvent]: ...


@dataclass(frozen=True)
class Thresholds:
    normal: float = 0.5
    urgent: float = 0.3  # pain and stop: missing them costs most
    max_utterance: float = 1.8  # seconds; longer speech is a sentence, not a command
    coverage: float = 0.6  # the phrase's words must span this share of the utterance
    above_echo: float = 10.0  # dB over the guide's residual echo for words said while it talks


class NoiseCleaner:
    """WebRTC noise suppression (webrtc-noise-gain) on 10 ms frames.

    Steady noise otherwise reads as endless speech to the endpointer. Automatic gain stays off
    by default: on the benchmark it cost accuracy in quiet conditions.
    """

    FRAME = RECOGNIZER_RATE // 100 * 2  # bytes in 10 ms

    def __init__(self, gain_dbfs: int = 0, suppression: int = 2) -> None:
        from webrtc_noise_gain import AudioProcessor

        self.processor = AudioProcessor(gain_dbfs, suppression)
        self._rest = b""

    def process(self, pcm: bytes) -> bytes:
        data = self._rest + pcm
        usable = len(data) - len(data) % self.FRAME
        self._rest = data[usable:]
        return b"".join(self.processor.Process10ms(data[i : i + self.FRAME]).audio for i in range(0, usable, self.FRAME))


class Endpoint:
    """Where speech starts and ends, from one speech/non-speech decision per frame: it starts when
    `ratio` of the last `frames` frames are speech, and ends when `ratio` of them are not."""

    def __init__(self, frames: int, ratio: float, frame_seconds: float) -> None:
        self.flags: deque[tuple[bool, float]] = deque(maxlen=frames)  # (speech?, frame end)
        self.need = max(1, round(ratio * frames))
        self.frame_seconds = frame_seconds
        self.in_speech = False
        self.speech_start = 0.0

    def update(self, speech: bool, frame_end: float) -> None:
        self.flags.append((speech, frame_end))
        voiced = sum(flag for flag, _ in self.flags)
        if not self.in_speech and voiced >= self.need:
            self.in_speech = True
            self.speech_start = next(end for flag, end in self.flags if flag) - self.frame_seconds
        elif self.in_speech and len(self.flags) - voiced >= self.need:
            self.in_speech = False


class Spotter:
    """Finds whole-utterance commands in a stream, with any Decoder."""

    def __init__(self, decoder: Decoder, language: str, thresholds: Thresholds = Thresholds(),
                 window: float = 0.24, ratio: float = 0.75, early: float = 0.09,
                 cleaner: NoiseCleaner | None = None, canceller: EchoCanceller | None = None) -> None:
        from pocketsphinx import Vad

        self.decoder = decoder
        self.cleaner = cleaner
        self.canceller = canceller  # removes the guide's own voice; set when something is played
        self.index = phrase_index(language)
        self.thresholds = thresholds
        self.vad = Vad(2, RECOGNIZER_RATE)  # WebRTC's voice activity detector, 30 ms frames
        self.frame_bytes = self.vad.frame_bytes
        self.endpointer = Endpoint(round(window / self.vad.frame_length), ratio, self.vad.frame_length)
        self.endpointer_tail = window * ratio  # silence that closes an utterance, seconds
        self.early_frames = max(1, round(early / self.vad.frame_length))
        self._quiet_frames = 0  # non-speech frames in a row inside the current utterance
        self._pending = b""
        self._recent: deque[tuple[float, bytes]] = deque(maxlen=int((window + PREROLL) * 40) + 4)
        self._consumed = 0.0  # seconds of audio fed so far
        self._start = 0.0  # clock time of audio second 0
        self._in_utterance = False
        self._restart_at_next_speech = False  # skip the rest of this speech (too long, or cut early)
        self._utt_start = 0.0
        self.rejected: list[tuple[str, str]] = []  # (text, why), for benchmarks and debugging

    def feed(self, chunk: AudioChunk) -> list[CommandEvent]:
        if chunk.rate != RECOGNIZER_RATE or chunk.channels != 1:
            raise ValueError("Spotter takes 16 kHz mono audio; convert with to_recognizer_format()")
        if self.canceller is not None:
            chunk = self.canceller.process(chunk)
        if not self._consumed and not self._pending:
            self._start = chunk.timestamp
        pcm = chunk.samples.astype("<i2").tobytes()
        data = self._pending + (self.cleaner.process(pcm) if self.cleaner else pcm)
        events: list[CommandEvent] = []
        usable = len(data) - len(data) % self.frame_bytes
        for i in range(0, usable, self.frame_bytes):
            events += self._frame(data[i : i + self.frame_bytes])
        self._pending = data[usable:]
        return events

    def finish(self) -> list[CommandEvent]:
        events: list[CommandEvent] = []
        tail = self._pending + b"\0" * (self.frame_bytes - len(self._pending))
        if self._in_utterance:
            self.decoder.process(tail)
            events += self._close(self._now())
        self._pending = b""
        return events

    def _now(self) -> float:
        return self._start + self._consumed

    def _frame(self, frame: bytes) -> list[CommandEvent]:
        self._consumed += len(frame) / 2 / RECOGNIZER_RATE
        self._recent.append((self._consumed, frame))
        was_in = self._in_utterance
        speech = self.vad.is_speech(frame)
        if speech and self.canceller is not None and self.canceller.only_guide(self._now() - self.vad.frame_length, self._now()):
            speech = False  # what is left of the guide's own voice after cancelling is not a person
        self.endpointer.update(speech, self._consumed)
        if self._restart_at_next_speech and not self.endpointer.in_speech:
            self._restart_at_next_speech = False
        if not was_in and self.endpointer.in_speech and not self._restart_at_next_speech:
            # The endpointer decides a moment after speech began; hand the decoder the audio
            # from a little before its start too, since the model needs the onset and some silence.
            self._in_utterance = True
            first = self.endpointer.speech_start - PREROLL
            self._utt_start = self._start + max(0.0, first)
            self.decoder.start()
            self._quiet_frames = 0
            for end, old in self._recent:
                if end > first:
                    self.decoder.process(old)
        elif was_in:
            self.decoder.process(frame)
            if not self.endpointer.in_speech:
                return self._close(self._now())
            self._quiet_frames = 0 if speech else self._quiet_frames + 1
            if self._quiet_frames == self.early_frames and self._interrupting(self.decoder.partial()):
                self._restart_at_next_speech = True  # the endpointer is still in this speech
                return self._close(self._now())
            if self._now() - self._utt_start > self.thresholds.max_utterance + PREROLL + 1.0:
                # Endless speech (a room full of talk) is never a command: drop it and start afresh.
                self.decoder.end()
                self.rejected.append(("", "speech without a pause"))
                self._in_utterance = False
                self._restart_at_next_speech = True
        return []

    def _interrupting(self, said: str) -> bool:
        found = self.index.get(said)
        return found is not None and found[0] in INTERRUPTING

    def _close(self, now: float) -> list[CommandEvent]:
        self._in_utterance = False
        words = self.decoder.end()
        spoken = [w for w in words if not w.text.startswith(("<", "["))]
        text = " ".join(w.text for w in words if w.text not in ("<s>", "</s>", "<sil>")).strip()
        if not spoken:
            return []
        if any(w.text.startswith("[") for w in words):
            self.rejected.append((text, "other speech"))
            return []
        said = " ".join(w.text for w in spoken)
        if said not in self.index:
            self.rejected.append((said, "not one phrase"))
            return []
        command, value = self.index[said]
        utterance = now - self._utt_start - PREROLL
        covered = spoken[-1].end - spoken[0].start
        too_sparse = utterance > SHORT and covered < self.thresholds.coverage * (utterance - self.endpointer_tail)
        if utterance > self.thresholds.max_utterance or too_sparse:
            # A sentence that merely contains a command word decodes as that word plus silence.
            self.rejected.append((said, f"{covered:.2f} s of words in {utterance:.2f} s of speech"))
            return []
        if self.canceller is not None:
            above = self.canceller.above_echo(self._utt_start + spoken[0].start, self._utt_start + spoken[-1].end)
            if above is not None and above < self.thresholds.above_echo:
                self.rejected.append((said, f"{above:.0f} dB above the guide's residual echo"))
                return []
        confidence = min(w.confidence for w in spoken)
        bar = self.thresholds.urgent if command in URGENT else self.thresholds.normal
        if confidence < bar:
            self.rejected.append((said, f"confidence {confidence:.2f} < {bar}"))
            return []
        word_end = min(now, self._utt_start + spoken[-1].end)
        return [CommandEvent(command, said, confidence, round(word_end, 3), round(now, 3), value)]


def energy(chunk: AudioChunk) -> float:
    """RMS level of a chunk in dBFS (for telling silence from a dead microphone)."""
    if not len(chunk.samples):
        return -120.0
    rms = float(np.sqrt(np.mean(chunk.samples.astype(np.float64) ** 2)))
    return 20 * np.log10(max(rms, 1e-9) / 32768)

