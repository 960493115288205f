"""Synthetic speech for tests and benchmarks: espeak-ng, Flite and Festival voices, noise, reverb.

Everything is made locally (espeak-ng, Flite, Festival and SoX from Debian) and cached by
content, so nothing is ever downloaded. espeak-ng is a formant synthesiser, far from a human
voice; Flite's voices and Festival's are cut from, or trained on, recordings of people, so they
stand in for real speakers too.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.speech.audio import RECOGNIZER_RATE, AudioChunk, read_wav, to_int16, to_recognizer_format, write_wav


@dataclass(frozen=True)
class Voice:
    name: str  # espeak-ng voice, e.g. "en-us+f3"; Flite, e.g. "flite:slt"; Festival, e.g. "festival:kal_diphone"
    speed: int = 160  # words per minute
    pitch: int = 50  # 0-99

    @property
    def label(self) -> str:
        return f"{self.name}/{self.speed}/{self.pitch}"

    @property
    def synthesiser(self) -> str:
        return self.name.split(":", 1)[0] if ":" in self.name else "espeak-ng"

    def command(self, text: str, out: str) -> list[str]:
        """The synthesiser's command line; Festival reads `text` from its standard input."""
        if self.synthesiser == "festival":
            # Festival's pitch is the voice's own; its speed is a stretch of its own ~170 wpm.
            return ["text2wave", "-eval", f"(voice_{self.name.split(':', 1)[1]})",
                    "-eval", f"(Parameter.set 'Duration_Stretch {170 / self.speed:.2f})", "-o", out]
        if self.synthesiser == "flite":
            # Flite has no words-per-minute setting; stretch durations about its own ~170 wpm.
            return ["flite", "-voice", self.name.split(":", 1)[1], "--setf", f"duration_stretch={170 / self.speed:.2f}",
                    "--setf", f"int_f0_target_mean={70 + self.pitch * 2}", "-t", text, "-o", out]
        return ["espeak-ng", "-v", self.name, "-s", str(self.speed), "-p", str(self.pitch), "-w", out, text]


def speak(text: str, voice: Voice, cache: Path) -> np.ndarray:
    """16 kHz int16 samples of `text`, leading and trailing silence trimmed."""
    key = hashlib.sha1(f"{voice.label}|{text}".encode()).hexdigest()[:16]
    path = cache / f"{key}.wav"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            subprocess.run(voice.command(text, tmp.name), input=text.encode(), check=True, capture_output=True)
            write_wav(path, to_recognizer_format(read_wav(Path(tmp.name))))
    return trim(read_wav(path).samples)


def trim(samples: np.ndarray, floor: int = 200) -> np.ndarray:
    loud = np.nonzero(np.abs(samples) > floor)[0]
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples[:0]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RECOGNIZER_RATE), np.int16)


# Chords of plucked strings, two a second (SoX's pluck): music as a radio in the room plays it.
CHORDS = (("C4", "E4", "G4"), ("A3", "C4", "E4"), ("F3", "A3", "C4"), ("G3", "B3", "D4"))


def music(n: int, seed: int = 0) -> np.ndarray:
    """`n` samples of CHORDS in a random order, 16 kHz float."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        notes = []
        for i, chord in enumerate(CHORDS):
            path = Path(tmp) / f"{i}.wav"
            plucks = [arg for note in chord for arg in ("pluck", note)]
            subprocess.run(["sox", "-q", "-R", "-n", "-r", str(RECOGNIZER_RATE), "-b", "16", "-c", "1", str(path),
                            "synth", "0.5", *plucks, "fade", "0", "0.5", "0.4"], check=True, capture_output=True)
            notes.append(read_wav(path).samples.astype(np.float64))
    count = n // len(notes[0]) + 1
    return np.concatenate([notes[i] for i in rng.integers(0, len(notes), count)])[:n]


def noise(kind: str, n: int, seed: int = 0, babble: np.ndarray | None = None) -> np.ndarray:
    """Unit-power float noise: white, pink (1/f), babble (looped from `babble`) or music."""
    rng = np.random.default_rng(seed)
    if kind == "white":
        out = rng.standard_normal(n)
    elif kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(n))
        spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
        out = np.fft.irfft(spectrum, n)
    elif kind == "music":
        out = music(n, seed)
    elif kind == "babble":
        if babble is None or not len(babble):
            raise ValueError("babble noise needs recorded speech")
        start = int(rng.integers(0, len(babble)))
        out = np.resize(np.roll(babble.astype(np.float64), -start), n)
    else:
        raise ValueError(f"unknown noise {kind!r}")
    return out / max(np.sqrt(np.mean(out**2)), 1e-9)


def mix_at_snr(speech: np.ndarray, noise_unit: np.ndarray, snr_db: float, active: np.ndarray) -> np.ndarray:
    """Add noise so that speech power (over `active` samples) / noise power = snr_db."""
    power = np.mean(speech[active].astype(np.float64) ** 2) if active.any() else 1.0
    scale = np.sqrt(power / 10 ** (snr_db / 10))
    mixed = speech.astype(np.float64) + noise_unit[: len(speech)] * scale
    return to_int16(mixed)


def dither(samples: np.ndarray, level: float = 8.0, seed: int = 1) -> np.ndarray:
    """A faint noise floor, as every real microphone has (digital silence is unnatural)."""
    rng = np.random.default_rng(seed)
    return np.clip(samples + rng.normal(0, level, len(samples)), -32768, 32767).astype(np.int16)


def reverb(samples: np.ndarray, percent: int = 50) -> np.ndarray:
    """A room: SoX's reverberation (reverberance `percent`, wet and dry mixed)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "dry.wav", Path(tmp) / "wet.wav"
        write_wav(src, AudioChunk(samples, RECOGNIZER_RATE))
        # -R: repeatable. Otherwise SoX dithers its output with a new random seed each time, and
        # the same recording in the same room came out different from run to run.
        subprocess.run(["sox", "-q", "-R", str(src), str(dst), "gain", "-3", "reverb", str(percent), "50", "80"],
                       check=True, capture_output=True)
        wet = read_wav(dst).samples
    return wet[::2] if len(wet) > len(samples) * 1.5 else wet  # SoX reverb may widen to stereo


def telephone(samples: np.ndarray) -> np.ndarray:
    """As an 8 kHz device delivers it (a Bluetooth headset in its hands-free profile; SoX
    band-limits and resamples), converted back to 16 kHz as a session converts a microphone's."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "wide.wav", Path(tmp) / "narrow.wav"
        write_wav(src, AudioChunk(samples, RECOGNIZER_RATE))
        subprocess.run(["sox", "-q", "-R", str(src), "-r", "8000", str(dst)], check=True, capture_output=True)
        return to_recognizer_format(read_wav(dst)).samples


def quiet_microphone(samples: np.ndarray) -> np.ndarray:
    """As a microphone with its gain set low delivers it (a person on a mat two or three metres
    away, no automatic gain): 40 dB down, speech at about -60 dBFS, over the faint hiss of a
    clean microphone (-84 dBFS)."""
    return dither(to_int16(samples.astype(np.float64) / 100), level=2.0)


def mains_hum(n: int, base: float = 50.1, dbfs: float = -38.0, harmonics: int = 20, seed: int = 0) -> np.ndarray:
    """A microphone's buzz from a mains lead or a ground loop: `base` Hz (a grid runs a little
    off 50 or 60) and its harmonics, each 1/k of the fundamental, whose sine peaks at `dbfs`;
    n samples at 16 kHz, to be added to a recording."""
    t = np.arange(n) / RECOGNIZER_RATE
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, harmonics)
    peak = 32768 * 10 ** (dbfs / 20)
    return sum(peak / k * np.sin(2 * np.pi * base * k * t + phases[k - 1]) for k in range(1, harmonics + 1))


@dataclass(frozen=True)
class Placed:
    """An utterance placed in a stream: what was said and where, in seconds."""

    text: str
    start: float
    end: float


def build_stream(pieces: list[tuple[str, np.ndarray]], gap: float, lead: float = 1.0) -> tuple[np.ndarray, list[Placed]]:
    """Utterances one after another with `gap` seconds of silence between them."""
    parts = [silence(lead)]
    placed = []
    t = lead
    for text, samples in pieces:
        parts.append(samples)
        placed.append(Placed(text, t, t + len(samples) / RECOGNIZER_RATE))
        t += len(samples) / RECOGNIZER_RATE + gap
        parts.append(silence(gap))
    return np.concatenate(parts), placed
