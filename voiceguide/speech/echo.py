"""The guide hearing itself.

Two defences, in order:
1. EchoCanceller removes the guide's voice from the microphone signal before recognition,
   using the samples the loudspeaker played (Playback) as its reference.
2. own_words() is the rule the runner applies to what is left: a command whose words are in
   the sentence the guide was saying at that moment is its own echo, unless it is urgent (pain,
   stop) or heard with high confidence. Other commands said over the guide's voice are obeyed.

EchoTap mixes the guide's own voice back into a recording at a set gain and delay, so all of
this can be measured without a room (`run --echo-gain --echo-delay`).
"""

from __future__ import annotations

import io
import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.atomic import write_atomically
from voiceguide.commands import URGENT, CommandEvent, normalise
from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, to_int16, to_recognizer_format
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


class Playback:
    """What the loudspeaker played, as 16 kHz float samples on the session clock.

    The echo canceller reads it back as the reference for each stretch of microphone audio.
    """

    def __init__(self) -> None:
        self.pieces: list[tuple[float, np.ndarray]] = []  # (start seconds, samples)

    def played(self, audio: AudioChunk, at: float) -> None:
        samples = to_recognizer_format(audio).samples.astype(np.float32)
        self.pieces = [*self.pieces[-7:], (at, samples)]

    def cut(self, at: float) -> None:
        """The speech playing at `at` was stopped there."""
        if self.pieces:
            start, samples = self.pieces[-1]
            self.pieces[-1] = (start, samples[: max(0, int(round((at - start) * RECOGNIZER_RATE)))])

    def sounding(self, start: float, end: float) -> bool:
        """Whether anything was playing between session times `start` and `end`."""
        return any(at < end and at + len(samples) / RECOGNIZER_RATE > start for at, samples in self.pieces)

    def span(self, start: float, n: int) -> np.ndarray:
        """The n samples played from session time `start` (silence where nothing played)."""
        out = np.zeros(n, np.float32)
        first = int(round(start * RECOGNIZER_RATE))
        for at, samples in self.pieces:
            offset = int(round(at * RECOGNIZER_RATE)) - first
            lo, hi = max(0, offset), min(n, offset + len(samples))
            if lo < hi:
                out[lo:hi] += samples[lo - offset : hi - offset]
        return out


class EchoCanceller:
    """Subtracts the guide's own voice from the microphone signal.

    A partitioned-block frequency-domain adaptive filter (10 ms blocks, 24 partitions: echo
    paths up to 240 ms long, which covers a loudspeaker beside the microphone, device latency
    and most of a small room's reverberation) learns how the played samples reach the
    microphone. It runs as two filters: a background one that always adapts, and the one in use,
    which takes the background's weights only while they cancel better. A person talking over
    the guide throws the background filter off (their voice is not in the reference), so the
    filter in use keeps cancelling the guide and keeps the person's words.

    What the filter leaves of the guide's voice (15-40 dB down) still sounds like speech to the
    voice activity detector and would hide the pause after a person's command; so a block that
    holds no more than that expected residue is turned down by 30 dB (residual echo suppression).

    Learning the path from nothing takes a second or two of the guide's speech, and a command
    said before then is lost. The loudspeaker and microphone rarely move between sessions, so the
    path learned in one session is saved (save()) and offered to the next (restore()). There it
    is tried alongside the filters, which start from nothing as usual: over the guide's first
    0.1 s of speech it is scaled to the loudspeaker's volume now, and taken over if it then
    cancels at least FITS dB. A path that does not fit (the speaker or microphone moved, the
    delay changed) is dropped, and the session goes on as if there had been none.
    """

    BLOCK = 160  # samples: 10 ms
    PARTS = 24
    STEP = 0.8
    STANDS_OUT = 10.0  # a block this many times the expected residual echo holds something else
    FLOOR = 0.03  # gain for a block that holds only the guide's residual echo (-30 dB)...
    # ...but never below the room's own noise. Turned down with the echo, a fan's noise vanished
    # while the guide talked and came back when it stopped; the voice detector and the noise floor,
    # having learnt a silent room, took it for speech for seconds, and the answer to "How bad is
    # the pain?" was lost in it. The noise is the least left after cancelling (or heard, while
    # the guide is silent) over the last NOISE_WINDOW blocks that can tell, averaged over SMOOTH
    # blocks first: speech has quieter moments than that, and a fan switched on while the guide
    # rests is known within the window. (Tracked as the least left, rising by 3 dB a second, such
    # a fan was turned down by 15-25 dB when the guide spoke again.)
    NOISE_WINDOW = 150  # blocks: 1.5 s
    SMOOTH = 5  # blocks: a 10 ms block of pink noise alone ranges too widely in energy
    PATH_CHANGED = 200  # blocks (2 s) of the guide's speech: standing out this long is a changed echo path or room
    # A block of the guide's speech in which nothing else was heard counts this many blocks off
    # the overlap, not all of them: after the loudspeaker was turned up or down by 6 dB, 94% of
    # the blocks stood out and the rest, fitting by chance, had reset a count of blocks in a row,
    # so the canceller never learned the new path and the guide's voice stayed in everything heard.
    OVERLAP_FITS = 4
    LEARNED = 10.0  # dB of echo return loss enhancement from which a person can be told from the echo
    FIT_BLOCKS = 10  # blocks of the guide's speech over which a restored path is fitted to the volume
    FITS = 6.0  # dB a restored path must take off, once fitted, to be kept
    TAIL = 0.3  # seconds after the guide stops in which its echo can still be heard (path and delay)

    def __init__(self, playback: Playback) -> None:
        self.playback = playback
        bins = self.BLOCK + 1
        self.learning = np.zeros((self.PARTS, bins), np.complex128)  # background filter
        self.using = np.zeros((self.PARTS, bins), np.complex128)  # filter whose output is used
        self.spectra = np.zeros((self.PARTS, bins), np.complex128)  # reference blocks, newest first
        self.power = np.full(bins, 1.0)
        self.previous = np.zeros(self.BLOCK)  # the reference block before this one
        self.residual_learning = self.residual_using = 0.0  # smoothed error energies
        self.saved: np.ndarray | None = None  # a restored path, on trial
        self.fit_sums = np.zeros(3)  # its fit so far: sums of mic x echo, echo x echo, mic x mic
        self.fit_blocks = 0
        self.erle = 0.0  # dB by which cancelling has recently weakened the echo
        # How loud the guide is at the microphone for its loudness in the reference: averages
        # over the last few seconds of its speech (a person's short command barely moves them).
        self.heard_power = self.played_power = 0.0
        self.played_recent: deque[float] = deque([0.0] * 12, maxlen=12)  # reference block energies, 120 ms
        # (block end, heard, expected residue, guide talking), 6 s of them
        self.recent: deque[tuple[float, float, float, bool]] = deque(maxlen=600)
        self.pending = np.zeros(0)
        self.pending_start = 0.0
        self.overlap = 0.0  # how long something else has been heard over the guide's speech (see OVERLAP_FITS)
        self.changing: deque[float] = deque(maxlen=600)  # ends of recent blocks heard while the path seemed to change
        self.noise_recent: deque[float] = deque(maxlen=self.SMOOTH)
        self.noise_smoothed: deque[float] = deque(maxlen=self.NOISE_WINDOW)
        self.talking_blocks = 0

    def process(self, chunk: AudioChunk) -> AudioChunk:
        """Echo-free audio for whole blocks of `chunk` (a few ms may wait for the next chunk)."""
        if not len(self.pending):
            self.pending_start = chunk.timestamp
        self.pending = np.concatenate([self.pending, chunk.samples.astype(np.float64)])
        usable = len(self.pending) - len(self.pending) % self.BLOCK
        start = self.pending_start
        reference = self.playback.span(start, usable).astype(np.float64)
        out = np.empty(usable)
        for i in range(0, usable, self.BLOCK):
            end = start + (i + self.BLOCK) / RECOGNIZER_RATE
            out[i : i + self.BLOCK] = self._block(self.pending[i : i + self.BLOCK], reference[i : i + self.BLOCK], end)
        self.pending = self.pending[usable:]
        self.pending_start = start + usable / RECOGNIZER_RATE
        return AudioChunk(to_int16(out), RECOGNIZER_RATE, 1, start)

    def _blocks(self, start: float, end: float) -> list[tuple[float, float, bool]]:
        """(heard, expected residue, guide talking) of the blocks ending from `start` to `end`."""
        found = []
        for t, heard, residue, talking in reversed(self.recent):  # newest first: stop once past `start`
            if t <= start:
                break
            if t <= end + self.BLOCK / RECOGNIZER_RATE:
                found.append((heard, residue, talking))
        return found

    def above_echo(self, start: float, end: float) -> float | None:
        """dB by which what was heard from `start` to `end` exceeds the guide's expected residual
        echo; None when the guide was silent then and for TAIL before. A person's words stand
        well above it; a fragment of the guide's own voice does not.

        Words that a decoder places wholly after the guide's sentence ended are held to the level
        of its residue over the TAIL before them: there the expected residue has already fallen
        to nothing, and the faint last of the guide's voice, heard as "ow", stood 19 dB above it."""
        spans = self._blocks(start, end)
        if not spans:
            return None
        heard = sum(h for h, _, _ in spans) / len(spans)
        residue = sum(r for _, r, _ in spans) / len(spans)
        if not any(talking for _, _, talking in spans):
            before = [r for _, r, talking in self._blocks(start - self.TAIL, start) if talking]
            residue = max(residue, sum(before) / len(before) if before else 0.0)
        if residue <= 0:
            return None
        return 10 * float(np.log10(max(heard, 1.0) / residue))

    def changing_path(self, start: float, end: float) -> bool:
        """True when from `start` to `end` (or TAIL before) the guide's speech had long been
        standing out of its expected residue: a person's command lasts a second at most, so the
        echo path or the room was changing, and what is heard then may be the guide's own voice,
        cancelled no longer. After the loudspeaker was turned down by 3 dB, its "Let your spine go
        back to neutral" came through as "help" while the canceller learned the new path."""
        return any(start - self.TAIL <= t <= end + self.BLOCK / RECOGNIZER_RATE for t in self.changing)

    def talking(self, now: float) -> bool:
        """True when the guide was talking at most 2 * TAIL before `now`: its echo may still be
        arriving, and a person may be cutting in on its last words."""
        return any(talking for _, _, talking in self._blocks(now - 2 * self.TAIL, now))

    def only_guide(self, start: float, end: float) -> bool:
        """True when the guide was talking from `start` to `end` and most of what was heard then
        was no more than its residual echo: no person's voice, whatever a voice detector says."""
        spans = [(heard, residue) for heard, residue, talking in self._blocks(start, end) if talking]
        return bool(spans) and 2 * sum(heard > self.STANDS_OUT * residue for heard, residue in spans) < len(spans)

    def _try_saved(self, mic: np.ndarray, heard: float) -> None:
        """One block of the guide's speech towards fitting the restored path to this session's
        loudspeaker volume (a volume turned up or down by 6 dB would leave the path as it was
        cancelling no better than none); after FIT_BLOCKS, take it over or drop it."""
        assert self.saved is not None
        echo = self._echo(self.saved)
        self.fit_sums += (float(mic @ echo), float(echo @ echo), heard)
        self.fit_blocks += 1
        if self.fit_blocks < self.FIT_BLOCKS:
            return
        cross, own, total = self.fit_sums
        scale = cross / own if own > 0 else 0.0
        # What the scaled path would have left of those blocks (least squares).
        left = max(total - 2 * scale * cross + scale**2 * own, 1.0)
        fitted = 10 * float(np.log10(max(total, 1.0) / left))
        if fitted >= self.FITS:
            self.using = self.saved * scale
            self.learning = self.using.copy()
            self.residual_using = self.residual_learning = 0.0
            self.erle = fitted  # how well it cancels is known at once, not learnt over a second
        self.saved = None

    def save(self, path: Path) -> None:
        """Keep the learned echo path for the next session (only once it has been learned)."""
        if self.erle < self.LEARNED:
            return
        kept = io.BytesIO()
        np.savez(kept, weights=self.using)
        write_atomically(path, kept.getvalue())

    def restore(self, path: Path) -> str | None:
        """Start from a saved echo path; a message when the file is there but unusable."""
        if not path.exists():
            return None
        try:
            with np.load(path) as saved:
                weights = saved["weights"]
        except Exception as exc:  # noqa: BLE001 - any damage to the file means: start afresh
            return f"{path} is unreadable ({type(exc).__name__}); the echo canceller learns the room afresh"
        if weights.shape != self.using.shape or not np.isfinite(weights).all():
            return f"{path} holds no usable echo path; the echo canceller learns the room afresh"
        self.saved = weights.astype(np.complex128)
        return None

    def _track_noise(self, left: float, residue: float) -> None:
        """Follow the room's noise (see NOISE_WINDOW) from the energy left in a block after
        cancelling, or heard when there was nothing to cancel. A block that holds no more than
        the guide's expected residual echo tells nothing of the room: over a long sentence, the
        residue alone had the noise taken for 6-10 dB louder than it was."""
        if residue > 0 and left < self.STANDS_OUT * residue:
            return
        self.noise_recent.append(left)
        self.noise_smoothed.append(sum(self.noise_recent) / len(self.noise_recent))

    @property
    def noise(self) -> float:
        """Energy of a block of the room's noise (see NOISE_WINDOW); infinite before any is heard."""
        return min(self.noise_smoothed, default=math.inf)

    def _echo(self, weights: np.ndarray) -> np.ndarray:
        return np.fft.irfft((weights * self.spectra).sum(axis=0), 2 * self.BLOCK)[self.BLOCK :]

    def _block(self, mic: np.ndarray, ref: np.ndarray, end: float) -> np.ndarray:
        b = self.BLOCK
        self.spectra = np.roll(self.spectra, 1, axis=0)
        self.spectra[0] = np.fft.rfft(np.concatenate([self.previous, ref]))
        self.previous = ref
        heard, played = float(mic @ mic), float(ref @ ref)
        self.played_recent.append(played)
        if not self.spectra.any():
            self.recent.append((end, heard, 0.0, False))
            self._track_noise(heard, 0.0)  # so that a fan switched on in a rest is known when the guide speaks
            return mic  # the guide has been silent for the whole filter span: nothing to cancel
        error = mic - self._echo(self.using)
        trial = mic - self._echo(self.learning)
        left = float(error @ error)
        guide_talking = played > 1e3 * b
        if self.saved is not None and guide_talking:
            self._try_saved(mic, heard)
        # The guide's voice as it reaches the microphone: from the filter, or, while the filter
        # is still learning, from how loud it has been arriving.
        echo = mic - error
        arriving = max(float(echo @ echo), self.heard_power / max(self.played_power, 1.0) * max(self.played_recent))
        residue = arriving / 10 ** (self.erle / 10)
        # Far more left than the expected residue: someone else is talking (or the echo path
        # changed, if it goes on for longer than anyone gives a command). What the microphone
        # hears then is not the guide's echo, so nothing is learnt from it: adapting on a
        # person's voice would wreck the filter just when their command must come through.
        # Until the filter has learned the path, nothing can be told apart: it learns from all.
        someone_else = residue > 0 and left >= self.STANDS_OUT * residue
        if guide_talking:
            self.overlap = self.overlap + 1 if someone_else else max(0.0, self.overlap - self.OVERLAP_FITS)
            if self.overlap > self.PATH_CHANGED / 2:
                self.changing.append(end)
        trusted = self.erle < self.LEARNED or not someone_else or self.overlap > self.PATH_CHANGED
        if trusted:
            self.residual_using = 0.9 * self.residual_using + 0.1 * left
            self.residual_learning = 0.9 * self.residual_learning + 0.1 * float(trial @ trial)
            if self.residual_learning < 0.8 * self.residual_using:
                self.using = self.learning.copy()  # the background filter has learned something better
                self.residual_using = self.residual_learning
                error, left = trial, float(trial @ trial)
            elif self.residual_learning > 4 * self.residual_using + 1e3 * b:
                self.learning = self.using.copy()  # thrown off: start again from the good one
                self.residual_learning = self.residual_using
                trial = error
        self.recent.append((end, left, residue, guide_talking))
        self._track_noise(left, residue)
        if guide_talking:
            self.power = 0.9 * self.power + 0.1 * np.abs(self.spectra[0]) ** 2
        if guide_talking and trusted:
            # A running average in dB; blocks far below it are a person talking, not the filter.
            achieved = 10 * np.log10(max(heard, 1.0) / max(left, 1.0))
            # Far under the running average, a block is a person talking over the guide, unless it
            # goes on for longer than anyone gives a command: then the room changed.
            if achieved > self.erle - 10 or self.overlap > self.PATH_CHANGED:
                self.erle = 0.95 * self.erle + 0.05 * achieved
            self.talking_blocks += 1
            weight = max(0.005, 1 / self.talking_blocks)  # a plain mean until there are enough blocks
            self.heard_power = (1 - weight) * self.heard_power + weight * heard
            self.played_power = (1 - weight) * self.played_power + weight * played
            gradient = np.fft.rfft(np.concatenate([np.zeros(b), trial]))
            update = self.spectra.conj() * gradient / (self.PARTS * self.power + 1e-3)
            # Keep each partition b taps long (the overlap-save constraint).
            taps = np.fft.irfft(update, 2 * b, axis=1)
            taps[:, b:] = 0
            self.learning += self.STEP * np.fft.rfft(taps, axis=1)
        if residue > 0 and left < self.STANDS_OUT * residue:
            return error * min(1.0, max(self.FLOOR, math.sqrt(self.noise / max(left, 1.0))))
        return error


class EchoTap:
    """The guide's voice reaching the microphone of a recording: `gain_db` louder, `delay_ms` later."""

    def __init__(self, renderer: Renderer, gain_db: float, delay_ms: float) -> None:
        self.renderer = renderer
        self.gain = 10 ** (gain_db / 20)
        self.delay = delay_ms / 1000
        self.playback = Playback()

    def said(self, text: str, at: float) -> float:
        audio = self.renderer.render(text)
        self.playback.played(audio, at)
        return audio.seconds

    def stopped(self, at: float) -> None:
        self.playback.cut(at)

    def mix(self, chunk: AudioChunk) -> AudioChunk:
        echo = self.playback.span(chunk.timestamp - self.delay, len(chunk.samples)) * self.gain
        out = chunk.samples.astype(np.float32) + echo
        return AudioChunk(to_int16(out), chunk.rate, 1, chunk.timestamp)


class EchoingSpeaker:
    """A speaker that also feeds an EchoTap; speech lasts as long as its rendering."""

    def __init__(self, inner, tap: EchoTap) -> None:  # noqa: ANN001 - any Speaker
        self.inner, self.tap = inner, tap
        self.playback = tap.playback

    def say(self, text: str, at: float) -> float:
        self.inner.say(text, at)
        return self.tap.said(text, at)

    def stop(self, at: float) -> None:
        self.inner.stop(at)
        self.tap.stopped(at)

    def present(self, at: float) -> bool:
        return self.inner.present(at)

    def troubles(self) -> list[str]:
        return self.inner.troubles()

    def close(self) -> None:
        self.inner.close()
