"""Audio that carries its format, WAV reading/writing, and the one conversion to 16 kHz mono.

Recognisers take 16 kHz mono 16-bit audio; everything else (WAV files of any rate, width or
channel count, microphones at their own rate) is converted in `to_recognizer_format`.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RECOGNIZER_RATE = 16000  # Hz
CHUNK_SECONDS = 0.1  # audio handed to a recogniser at a time


@dataclass(frozen=True)
class AudioChunk:
    """Mono or interleaved int16 samples. `timestamp` is seconds on the session clock at its start."""

    samples: np.ndarray  # int16, shape (frames * channels,)
    rate: int  # Hz
    channels: int = 1
    timestamp: float = 0.0

    @property
    def frames(self) -> int:
        return len(self.samples) // self.channels

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    @property
    def end(self) -> float:
        return self.timestamp + self.seconds


class AudioFileError(ValueError):
    pass


def read_wav(path: Path) -> AudioChunk:
    """Any PCM WAV (8/16/24/32-bit, any rate, any channels) as int16 samples."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except FileNotFoundError:
        raise AudioFileError(f"{path}: no such file.") from None
    except (wave.Error, EOFError, OSError) as exc:
        raise AudioFileError(f"{path}: not a readable PCM WAV file ({exc}). "
                             "Convert it with e.g. `sox in.any -b 16 out.wav`.") from None
    if width == 1:
        samples = ((np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif width == 2:
        samples = np.frombuffer(raw, "<i2")
    elif width == 3:
        b = np.frombuffer(raw[: len(raw) // 3 * 3], np.uint8).reshape(-1, 3)
        samples = (b[:, 1].astype(np.int16) | (b[:, 2].astype(np.int16) << 8)).astype(np.int16)
    elif width == 4:
        samples = (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    else:
        raise AudioFileError(f"{path}: {width * 8}-bit samples are not supported.")
    usable = len(samples) // channels * channels
    return AudioChunk(samples[:usable].copy(), rate, channels)


def write_wav(path: Path, chunk: AudioChunk) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(chunk.channels)
        wav.setsampwidth(2)
        wav.setframerate(chunk.rate)
        wav.writeframes(chunk.samples.astype("<i2").tobytes())


def to_recognizer_format(chunk: AudioChunk) -> AudioChunk:
    """Downmix to mono and resample to 16 kHz (linear interpolation; speech band is kept)."""
    samples = chunk.samples
    if chunk.channels > 1:
        samples = samples.reshape(-1, chunk.channels).mean(axis=1)
    if chunk.rate > RECOGNIZER_RATE and len(samples):
        samples = np.convolve(samples.astype(np.float32), _lowpass(chunk.rate), mode="same")
    if chunk.rate != RECOGNIZER_RATE and len(samples):
        n_out = int(round(len(samples) * RECOGNIZER_RATE / chunk.rate))
        positions = np.arange(n_out) * (chunk.rate / RECOGNIZER_RATE)
        samples = np.interp(positions, np.arange(len(samples)), samples.astype(np.float32))
    out = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    return AudioChunk(out, RECOGNIZER_RATE, 1, chunk.timestamp)


def _lowpass(rate: int, taps: int = 31) -> np.ndarray:
    """Windowed-sinc low-pass at 7.6 kHz, so downsampling to 16 kHz does not alias."""
    cutoff = 0.95 * (RECOGNIZER_RATE / 2) / rate
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff * n) * np.hamming(taps)
    return (kernel / kernel.sum()).astype(np.float32)


def split(chunk: AudioChunk, seconds: float = CHUNK_SECONDS) -> list[AudioChunk]:
    """Consecutive pieces of `seconds` each, timestamps following on from chunk.timestamp."""
    step = int(chunk.rate * seconds) * chunk.channels
    return [
        AudioChunk(chunk.samples[i : i + step], chunk.rate, chunk.channels,
                   chunk.timestamp + i / chunk.channels / chunk.rate)
        for i in range(0, len(chunk.samples), step)
    ]
