"""Mains hum: found in the spectrum, and taken away line by line before anything listens.

A microphone near a mains lead, or on a ground loop, picks up 50 or 60 Hz and its harmonics.
The fundamental is under the speech band, but its harmonics are not: 60 Hz with 180 Hz, each at
-44 dBFS, cost 10 of 32 commands (four voices, eight commands each; 2 with 60 Hz alone at -38).
The steady lines also raise the floor the level detector measures, so the room counts as noisy.

Every SEARCH seconds the last LOOK seconds of sound (fewer at first, from FIRST) are searched
for lines at the harmonics of 50 and 60 Hz (up to TOP Hz) that stand LINE dB over the spectrum
around them and keep their amplitude and phase through most of BLOCKS stretches (STEADY): a
voice's harmonics come and go with its words and its pitch. In the benchmark's 4820 recordings
(260 minutes of speech) no line was found. Each line found gets a notch: a complex one-pole
resonator at the line's measured frequency picks out the line, and the line is subtracted. The
notch is BANDWIDTH wide, so it takes little of a voice, and it follows the line's own phase
and amplitude as they drift; while something louder sounds it holds the line as it was (see
_notch). A line loses its notch only after GONE searches in a row
without standing KEEP dB out: a long sentence hides a line from the search, and a line let go
within 2.5 s (four voices' 36 commands each, after the guide's sentences) left 75% heard where
keeping it gives 92%. Sound with no lines passes unchanged.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voiceguide.speech.audio import RECOGNIZER_RATE


class HumFilter:
    FAMILIES = (50.0, 60.0)  # Hz, the mains frequencies
    TOP = 1500.0  # Hz: the highest harmonic looked for
    LOOK = 2.0  # seconds of sound searched (0.5 Hz resolution)
    FIRST = 0.5  # seconds heard before the first search
    SEARCH = 0.5  # seconds between searches
    LINE = 12.0  # dB over the median of the spectrum around it: a line, given a notch
    KEEP = 6.0  # dB: a line with a notch keeps it down to this
    QUIET = -90.0  # dBFS: a line quieter than this (a sine's level) is left alone
    DRIFT = 0.005  # how far off its nominal frequency a harmonic may be (mains runs within 0.2%)
    BANDWIDTH = 5.0  # Hz, each notch's width at -3 dB; it settles in about 1 / (pi * BANDWIDTH) s
    BLOCKS = 8  # stretches of the sound searched whose phases a line must keep (see _steadiness)
    STEADY = 0.7  # of the blocks: a word over the hum may cover two of eight
    GONE = 20  # searches in a row (10 s) without a line standing out KEEP dB that end its notch
    PIECE = 800  # samples worked on at a time (see _notch)
    # A piece this many dB over the quietest of the last QUIETEST holds each line where it was
    # (see _notch). The hum alone stays within 2-3 dB of its quietest piece.
    OVER = 6.0
    QUIETEST = 40  # pieces (2 s)
    HOLD = 40  # pieces (2 s) at most in a row, so a line that truly changed is followed again
    SETTLE = 6  # pieces (0.3 s, five times a notch's settling time) a new notch follows its line

    def __init__(self, rate: int = RECOGNIZER_RATE) -> None:
        self.rate = rate
        self.pole = float(np.exp(-np.pi * self.BANDWIDTH / rate))
        self.heard = np.zeros(0)  # the last LOOK seconds, as received
        self.since = 0  # samples since the last search
        self.lines: dict[float, float] = {}  # nominal harmonic (Hz) -> measured frequency (Hz)
        self.missed: dict[float, int] = {}  # nominal harmonic -> searches in a row it did not stand out
        self.state: dict[float, complex] = {}  # nominal harmonic -> its resonator's last output
        # measured frequency -> (p^k, e^(jwk)) over a PIECE: the complex powers cost more than the notch itself
        self.powers: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        self.held: dict[float, int] = {}  # nominal harmonic -> pieces held in a row (< 0: settling)
        self.recent: deque[float] = deque(maxlen=self.QUIETEST)  # power of the last pieces

    @property
    def found(self) -> list[float]:
        """The lines being taken away, Hz as measured."""
        return sorted(self.lines.values())

    @property
    def mains(self) -> float:
        """Of FAMILIES, the one the lines found are harmonics of (its first, with none found)."""
        return min(self.FAMILIES, key=lambda base: sum(abs(f / base - round(f / base)) for f in self.found))

    def process(self, samples: np.ndarray) -> np.ndarray:
        """The samples (float) with the hum lines found so far taken away."""
        x = samples.astype(np.float64)
        self.heard = np.concatenate([self.heard, x])[-round(self.LOOK * self.rate) :]
        self.since += len(x)
        if self.since >= self.SEARCH * self.rate and len(self.heard) >= self.FIRST * self.rate:
            self.since = 0
            self._search()
        return self._notch(x) if self.lines else x

    def _search(self) -> None:
        """Which harmonics are lines now, and where exactly they are."""
        n = len(self.heard)
        spectrum = np.abs(np.fft.rfft(self.heard * np.hanning(n))) ** 2
        hz = self.rate / n  # per bin
        # A sine of amplitude A peaks at (A * n / 4) ** 2 through the Hann window.
        quiet = (32768 * 10 ** (self.QUIET / 20) * n / 4) ** 2
        standing: dict[float, float] = {}  # nominal harmonic -> measured frequency, of peaks standing out
        for base in self.FAMILIES:
            for nominal in np.arange(base, self.TOP + 1, base):
                if nominal in standing:
                    continue
                near = max(1.0, self.DRIFT * nominal)
                lo, hi = int((nominal - near) / hz), int(np.ceil((nominal + near) / hz))
                peak = lo + int(np.argmax(spectrum[lo : hi + 1]))
                if not spectrum[peak - 1] < spectrum[peak] > spectrum[peak + 1] or spectrum[peak] < quiet:
                    continue
                around = np.r_[spectrum[max(0, lo - int(25 / hz)) : lo - int(5 / hz)],
                               spectrum[hi + int(5 / hz) : hi + int(25 / hz)]]
                over = 10 * np.log10(spectrum[peak] / (np.median(around) + 1e-12))
                if over > (self.KEEP if nominal in self.lines else self.LINE):
                    standing[float(nominal)] = self._refined(spectrum, peak) * hz
        steadiness = self._steadiness(np.array(list(standing.values())))
        for (nominal, line), steady in zip(standing.items(), steadiness, strict=True):
            if steady > self.STEADY:
                self.lines[nominal] = line
                self.state.setdefault(nominal, 0j)
        for nominal in list(self.lines):
            self.missed[nominal] = 0 if nominal in standing else self.missed.get(nominal, 0) + 1
            if self.missed[nominal] >= self.GONE:
                del self.lines[nominal], self.state[nominal], self.missed[nominal]
                self.held.pop(nominal, None)
        self.powers = {hz: self.powers[hz] for hz in self.lines.values() if hz in self.powers}

    def _steadiness(self, lines: np.ndarray) -> np.ndarray:
        """How steady each line (Hz) has been over the sound searched, 0-1: its complex amplitude
        in each of BLOCKS stretches, and the share of them within half its length of their
        median (taken part by part). Mains hum keeps its amplitude and phase, in a pause as in a
        word, and a word over it moves only the blocks it is in; a voice's harmonic comes and
        goes with its words and its pitch, and noise has no phase to keep."""
        if not len(lines):
            return np.zeros(0)
        size = len(self.heard) // self.BLOCKS
        t = np.arange(size * self.BLOCKS) / self.rate
        turned = self.heard[: len(t), None] * np.exp(-2j * np.pi * t[:, None] * lines[None, :])
        blocks = (turned.reshape(self.BLOCKS, size, -1) * np.hanning(size)[None, :, None]).sum(axis=1)
        middle = np.median(blocks.real, axis=0) + 1j * np.median(blocks.imag, axis=0)
        return np.mean(np.abs(blocks - middle) < 0.5 * np.abs(middle), axis=0)

    @staticmethod
    def _refined(spectrum: np.ndarray, peak: int) -> float:
        """The peak's position between bins: a parabola through the log powers around it."""
        a, b, c = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
        bend = a - 2 * b + c
        return peak + (0.5 * (a - c) / bend if bend < 0 else 0.0)

    def _notch(self, x: np.ndarray) -> np.ndarray:
        """x with each line notched out in turn. A line is picked out by a complex one-pole
        resonator, y[n] = (1 - r) x[n] + r e^(jw) y[n-1], which follows e^(jwn) with gain 1 (and
        a sine at w as its positive-frequency half, so the line is twice y's real part). The
        notches run one after another, not side by side: each resonator lets through a little of
        the lines 50 Hz from it, and taken side by side those leaks left a 20-line buzz only
        26 dB down. The recursion runs in numpy as a cumulative sum over PIECE samples at a
        time: y[n] = p^n (p y[-1] + (1 - r) sum_k p^-k x[k]), where |p^-k| is at most r^-PIECE,
        1.9, so nothing loses precision.

        While something louder than the hum sounds (a piece OVER dB above the quietest of the
        last QUIETEST), each line is held: carried on at its own frequency from where the
        resonator had it, and not followed. Followed through a word, each resonator took in the
        voice's sound near its line and rang it out after the word, at the pace of its bandwidth
        (4 dB every 30 ms): over a 20-line buzz the guide heard each word go on for 0.1-0.15 s
        longer, and the words themselves lost some of their sound near every line. Held, what is
        left in the word and after it is 11-14 and 21-25 dB under the hum, where followed it was
        9-16 dB over and 3-8 under (three voices, eight commands each; a buzz at -38 dBFS)."""
        out = x.copy()
        starts = range(0, len(x), self.PIECE)
        loud = []
        for i in starts:
            piece = x[i : i + self.PIECE]
            power = float(np.mean(piece**2)) + 1e-9
            if len(piece) >= self.PIECE // 4:  # a few samples' power says little
                self.recent.append(power)
            loud.append(power > min(self.recent, default=power) * 10 ** (self.OVER / 10))
        for nominal, hz in self.lines.items():
            step = self.pole * np.exp(2j * np.pi * hz / self.rate)  # p
            if hz not in self.powers:
                turn = np.exp(2j * np.pi * hz / self.rate * np.arange(1, self.PIECE + 1))
                self.powers[hz] = (step ** np.arange(self.PIECE), turn)
            powers, turn = self.powers[hz]
            last = self.state[nominal]
            held = self.held.get(nominal, -self.SETTLE)
            for i, hold in zip(starts, loud, strict=True):
                piece = out[i : i + self.PIECE]
                if held < 0 or not hold or held >= self.HOLD:
                    p = powers[: len(piece)]
                    y = p * (step * last + (1 - self.pole) * np.cumsum(piece / p))
                    held = min(0, held + 1)
                else:
                    y = last * turn[: len(piece)]  # the line as it was, carried on
                    held += 1
                last = y[-1]
                out[i : i + len(piece)] = piece - 2 * y.real
            self.state[nominal] = last
            self.held[nominal] = held
        return out
