"""Audio that carries its format, WAV reading/writing, and the one conversion to 16 kHz mono.

Recognisers take 16 kHz mono 16-bit audio; everything else (WAV files of any rate, width or
channel count, microphones at their own rate) is converted in `to_recognizer_format`.
"""

from __future__ import annotations

import os
import struct
import wave
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


# WAV encodings (the format chunk's tag); EXTENSIBLE carries the real one in its sub-format.
PCM, FLOAT, ALAW, MULAW, EXTENSIBLE = 1, 3, 6, 7, 0xFFFE
CONVERT = "Convert it with e.g. `sox in.any -b 16 out.wav`."


@dataclass(frozen=True)
class WavFile:
    """A WAV file's format and where its samples are, read from its header.

    Integer PCM of 8 to 32 bits, 32- and 64-bit float, A-law and mu-law, in the plain format
    chunk or WAVE_FORMAT_EXTENSIBLE (which recorders and SoX write for 24 bits or more than two
    channels). A data chunk that ends early (a recording cut off, or written as a stream with
    no final size) is read as far as it goes.
    """

    path: Path
    tag: int
    rate: int
    channels: int
    width: int  # bytes per sample
    start: int  # offset of the first sample
    size: int  # bytes of whole frames present

    @classmethod
    def open(cls, path: Path) -> WavFile:
        try:
            with open(path, "rb") as f:
                return cls._parse(Path(path), f, os.fstat(f.fileno()).st_size)
        except FileNotFoundError:
            raise AudioFileError(f"{path}: no such file.") from None
        except OSError as exc:
            raise AudioFileError(f"{path}: cannot be read ({exc.strerror}).") from None

    @classmethod
    def _parse(cls, path: Path, f: BinaryIO, length: int) -> WavFile:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise AudioFileError(f"{path}: not a readable PCM WAV file (it does not start with RIFF...WAVE). {CONVERT}")
        fmt, at = None, 12
        while at + 8 <= length:
            f.seek(at)
            name, size = f.read(4), int.from_bytes(f.read(4), "little")
            if name == b"fmt ":
                fmt = f.read(min(size, 64))
            elif name == b"data" and fmt is not None and len(fmt) >= 16:
                return cls._described(path, fmt, at + 8, min(size, length - at - 8))
            at += 8 + size + (size & 1)  # chunks are padded to an even length
        what = "format" if fmt is None or len(fmt) < 16 else "data"
        raise AudioFileError(f"{path}: not a readable PCM WAV file (no {what} chunk). {CONVERT}")

    @classmethod
    def _described(cls, path: Path, fmt: bytes, start: int, size: int) -> WavFile:
        tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", fmt[:16])
        if tag == EXTENSIBLE and len(fmt) >= 26:
            tag = int.from_bytes(fmt[24:26], "little")  # the sub-format GUID starts with the tag
        width = align // channels if channels else 0
        if not channels or not rate or not width:
            raise AudioFileError(f"{path}: not a readable PCM WAV file ({channels} channels, {rate} Hz, "
                                 f"{bits}-bit). {CONVERT}")
        try:
            _decode(b"", tag, width)  # refuses an encoding it cannot read, before any audio is used
        except ValueError as exc:
            raise AudioFileError(f"{path}: {exc}. {CONVERT}") from None
        return cls(path, tag, rate, channels, width, start, size - size % align)

    def blocks(self, seconds: float = 10.0) -> Iterator[AudioChunk]:
        """The samples as int16, `seconds` at a time, so a long recording is never held whole."""
        step = max(1, int(self.rate * seconds)) * self.channels * self.width
        with open(self.path, "rb") as f:
            f.seek(self.start)
            for at in range(0, self.size, step):
                raw = f.read(min(step, self.size - at))
                yield AudioChunk(_decode(raw, self.tag, self.width), self.rate, self.channels,
                                 at / (self.channels * self.width * self.rate))


def read_wav(path: Path) -> AudioChunk:
    """A whole WAV file as int16 samples, any rate and channel count (see WavFile)."""
    wav = WavFile.open(path)
    samples = [block.samples for block in wav.blocks()]
    return AudioChunk(np.concatenate(samples) if samples else np.zeros(0, np.int16), wav.rate, wav.channels)


def _decode(raw: bytes, tag: int, width: int) -> np.ndarray:
    """Samples of one encoding as int16."""
    if tag == PCM and width == 1:  # 8-bit WAV is unsigned
        return ((np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    if tag == PCM and 2 <= width <= 4:
        # The top two bytes of each little-endian sample are its 16-bit value.
        return np.frombuffer(raw, np.uint8).reshape(-1, width)[:, -2:].copy().view("<i2").ravel()
    if tag == FLOAT and width in (4, 8):
        floats = np.frombuffer(raw, "<f4" if width == 4 else "<f8")
        return to_int16(np.nan_to_num(floats) * 32767)
    if tag in (ALAW, MULAW) and width == 1:
        return (_alaw if tag == ALAW else _mulaw)(np.frombuffer(raw, np.uint8).astype(np.int32)).astype(np.int16)
    names = {PCM: "integer PCM", FLOAT: "float", ALAW: "A-law", MULAW: "mu-law"}
    if tag not in names:  # compressed (ADPCM, GSM, MP3 in a WAV): its blocks are not samples
        compressed = {0x2: "MS ADPCM", 0x11: "IMA ADPCM", 0x31: "GSM 6.10", 0x55: "MP3"}
        raise ValueError(f"{compressed.get(tag, f'encoding {tag}')} (compressed) is not supported")
    raise ValueError(f"{names[tag]} with {width * 8}-bit samples is not supported")


def _mulaw(u: np.ndarray) -> np.ndarray:
    """G.711 mu-law bytes to 16-bit values."""
    u = ~u & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84 << ((u >> 4) & 7)) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude)


def _alaw(a: np.ndarray) -> np.ndarray:
    """G.711 A-law bytes to 16-bit values."""
    a = a ^ 0x55
    segment = (a >> 4) & 7
    magnitude = ((a & 0x0F) << 4) + np.where(segment == 0, 8, 0x108)
    magnitude = np.where(segment > 1, magnitude << np.maximum(segment - 1, 0), magnitude)
    return np.where(a & 0x80, magnitude, -magnitude)


def write_wav(path: Path, chunk: AudioChunk) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(chunk.channels)
        wav.setsampwidth(2)
        wav.setframerate(chunk.rate)
        wav.writeframes(chunk.samples.astype("<i2").tobytes())


def to_recognizer_format(chunk: AudioChunk) -> AudioChunk:
    """A whole clip made here (the guide's rendered voice, a test's speech) as 16 kHz mono (see
    Converter); its sound is not checked."""
    converter = Converter(checked=False)
    head = converter.convert(chunk)
    return AudioChunk(np.concatenate([head.samples, converter.flush().samples]), RECOGNIZER_RATE, 1, chunk.timestamp)


class _Check:
    """A check of a source's sound: hear() each chunk as it comes; take() what it found."""

    SAY = ""  # what the guide says of a finding (a key of texts.TEXTS)

    def __init__(self) -> None:
        self.finding: str | None = None

    def hear(self, chunk: AudioChunk) -> None: ...

    def take(self) -> str | None:
        """The finding, the first time it is asked after it was made; then None."""
        finding, self.finding = self.finding, None
        return finding


class BandCheck(_Check):
    """Whether a source's sound reaches as high as the recogniser's model listens.

    PocketSphinx's English model was trained on 16 kHz speech and listens up to 6.8 kHz. A
    telephone-band source has nothing above about 4 kHz: a Bluetooth headset or speakerphone in
    its hands-free profile (8 kHz), an 8 kHz recording, or either taken up to 48 kHz by a sound
    server. The model then mishears, with confidence: "pain" as "i'm done", "pause" as "ow"
    (scripts/bench_listen.py, condition "clean, 8 kHz device"). No setting of the model puts the
    missing band back, so the person is told, once.

    A rate under 16 kHz says so at once. Otherwise the first 5 s of sound decide: in the
    benchmark's clean speech, 4.3-7.5 kHz stood 12-22 dB under 0.3-3.4 kHz (less in noise or a
    room); through an 8 kHz channel, 46-57 dB under it.
    """

    SAY = "trouble_band"
    NARROW = -35.0  # dB of the upper band under the speech band that is no upper band at all
    ENOUGH = 5.0  # seconds of sound to decide on: a single voiced word ("ow") can stand 49 dB under
    QUIET = -60.0  # dBFS: a frame under this is silence, not sound
    FRAME = 0.032  # seconds of audio per spectrum

    def __init__(self) -> None:
        super().__init__()
        self.upper = self.speech = 0.0  # summed power in the two bands over the frames of sound
        self.heard = 0.0  # seconds of sound so far
        self.decided = False

    def hear(self, chunk: AudioChunk) -> None:
        if self.decided or not len(chunk.samples):
            return
        if chunk.rate < RECOGNIZER_RATE:
            self.hear_rate(chunk.rate)
            return
        mono = chunk.samples.astype(np.float64).reshape(-1, chunk.channels).mean(axis=1)
        n = int(chunk.rate * self.FRAME)
        frames = mono[: len(mono) // n * n].reshape(-1, n)
        loud = frames[10 * np.log10(np.mean(frames**2, axis=1) / 32768**2 + 1e-12) > self.QUIET]
        if not len(loud):
            return
        power = np.abs(np.fft.rfft(loud * np.hanning(n), axis=1)) ** 2
        hz = np.fft.rfftfreq(n, 1 / chunk.rate)
        self.upper += float(power[:, (hz > 4300) & (hz < 7500)].sum())
        self.speech += float(power[:, (hz > 300) & (hz < 3400)].sum())
        self.heard += len(loud) * self.FRAME
        if self.heard >= self.ENOUGH:
            under = 10 * np.log10(max(self.upper, 1e-9) / max(self.speech, 1e-9))
            self._decide(f"almost nothing above 4 kHz, {-under:.0f} dB under the speech band"
                         if under < self.NARROW else None)

    def hear_rate(self, rate: int) -> None:
        """What a rate alone tells, as of a device not yet opened."""
        if rate < RECOGNIZER_RATE:
            self._decide(f"{rate} Hz audio, with nothing above {rate // 2} Hz")

    def _decide(self, finding: str | None) -> None:
        self.decided = True
        if finding:
            self.finding = (f"telephone-band sound ({finding}): commands are misheard far more often. Use a "
                            "microphone, or a Bluetooth profile (wideband, mSBC), that records at 16 kHz or more.")


class ClipCheck(_Check):
    """Whether the sound is cut flat at full scale: a microphone's input gain set too high, or a
    loudspeaker so loud that the guide's own voice clips at the microphone. Clipped words are
    misheard (a recorded voice's eight commands 24 dB too loud, a tenth of the samples clipped:
    3 of 8 right, "pause" heard as "faster"), and a clipped echo is no longer the guide's voice
    through a room, so cancelling takes off about 20 dB of it instead of 40. Said at most once a
    minute of audio, while it lasts."""

    SAY = "trouble_clipping"
    RUN = 3  # samples in a row at full scale: cut flat, not a peak that just touched it
    MANY = 10  # such runs within WINDOW seconds
    WINDOW = 10.0
    EVERY = 60.0  # seconds between two findings

    def __init__(self) -> None:
        super().__init__()
        self.at = 0.0  # seconds of audio heard
        self.since = 0.0  # start of the current window
        self.runs = 0  # in the current window
        self.told = -self.EVERY

    def hear(self, chunk: AudioChunk) -> None:
        frames = np.abs(chunk.samples.reshape(-1, chunk.channels).astype(np.int32)) >= 32767
        flat = np.diff(np.concatenate([[0], frames.any(axis=1).astype(np.int8), [0]]))
        self.runs += int(np.count_nonzero(np.flatnonzero(flat == -1) - np.flatnonzero(flat == 1) >= self.RUN))
        self.at += chunk.seconds
        if self.runs >= self.MANY and self.at - self.told >= self.EVERY:
            self.finding = (f"the sound is clipping ({self.runs} times in {self.at - self.since:.0f} s it was cut flat "
                            "at full scale): words are misheard, and a clipped echo of the guide cannot be cancelled. "
                            "Turn the microphone's input gain down (alsamixer, or the sound settings), or the loudspeaker.")
            self.told = self.at
        if self.at - self.since >= self.WINDOW or self.finding:
            self.since, self.runs = self.at, 0


class Converter:
    """Downmix to mono and resample to 16 kHz, chunk by chunk, as if the stream were one clip.

    A microphone delivers 50 ms blocks; converting each on its own would fade the low-pass
    filter in and out at every block edge and round each block's length, a 20 Hz buzz and a
    drifting clock. So the filter's history and the resampler's position carry over.
    Resampling is linear interpolation after a low-pass filter (when downsampling), which
    keeps the speech band. A change of rate or channel count starts afresh. Sound from outside (a
    microphone, a recording) is checked as it comes, before conversion (findings()).

    The output is timestamped by counting samples from the first chunk's time, which holds only
    while no sound is lost and the device's clock keeps time. A microphone's blocks carry the
    time they were captured, and two things part them from the count: an input overflow drops a
    block or more, and a device's clock runs up to 100 ppm off the computer's, 0.36 s an hour.
    The echo canceller finds the guide's voice by these timestamps within a 240 ms span, so over a
    long session it would lose it. So the count is moved to where the chunks' own times put it
    whenever the two part by more than DRIFT. A chunk's time can only be late (its callback
    waits for a busy computer), never early, so where they put it is the least lateness over the
    last WINDOW chunks. A recording's chunks are timed by the count itself and never part from it.
    """

    TAPS = 31  # low-pass filter length; it delays its output by TAPS // 2 input samples
    DRIFT = 0.02  # seconds; as far as the echo path may move at a time (2 of the canceller's blocks)
    WINDOW = 100  # chunks: 5 s of a microphone's 50 ms blocks

    def __init__(self, checked: bool = True) -> None:
        self.rate = self.channels = self.made = 0
        self.t0 = 0.0
        self.checks: tuple[_Check, ...] = (BandCheck(), ClipCheck()) if checked else ()

    def _start(self, rate: int, channels: int, timestamp: float) -> None:
        self.rate, self.channels, self.t0 = rate, channels, timestamp
        self.step = rate / RECOGNIZER_RATE  # input samples per output sample
        self.kernel = _lowpass(rate, self.TAPS) if rate > RECOGNIZER_RATE else None
        self.history = np.zeros(self.TAPS - 1 if self.kernel is not None else 0)
        self.buffer = np.zeros(0)  # filtered input not yet passed; buffer[0] is input sample `origin`
        self.origin = -(self.TAPS // 2) if self.kernel is not None else 0  # the filter's delay
        self.position = 0.0  # next output sample, in input samples
        self.taken = 0  # input samples converted so far
        self.made = 0  # output samples made so far
        self.lateness: deque[float] = deque(maxlen=self.WINDOW)  # recent chunks' times less the count's
        self.agreement = np.zeros(channels)  # each channel's correlation with the first so far (see _downmix)

    def convert(self, chunk: AudioChunk) -> AudioChunk:
        if (chunk.rate, chunk.channels) != (self.rate, self.channels):
            self._start(chunk.rate, chunk.channels, chunk.timestamp)
        self._follow(chunk.timestamp)
        for check in self.checks:
            check.hear(chunk)
        mono = chunk.samples.astype(np.float64)
        if chunk.channels > 1:
            mono = self._downmix(mono.reshape(-1, chunk.channels))
        self.taken += len(mono)
        if chunk.rate == RECOGNIZER_RATE:
            return self._made(to_int16(mono))
        return self._made(self._resample(self._filter(mono), final=False))

    def _follow(self, timestamp: float) -> None:
        """Move the count to the chunks' own times when they part by more than DRIFT."""
        self.lateness.append(timestamp - (self.t0 + self.taken / self.rate))
        parted = min(self.lateness)
        if abs(parted) > self.DRIFT:
            self.t0 += parted
            self.lateness = deque((late - parted for late in self.lateness), maxlen=self.WINDOW)

    def _downmix(self, frames: np.ndarray) -> np.ndarray:
        """The channels' mean, each channel turned the way of the first. Some microphone pairs
        (laptops' digital microphones among them) deliver one channel inverted; a plain mean
        cancelled a voice to nothing, and every command was lost. Which way a channel runs is
        how it has correlated with the first so far."""
        centred = frames - frames.mean(axis=0)
        self.agreement += centred[:, 0] @ centred
        return (frames * np.where(self.agreement < 0, -1.0, 1.0)).mean(axis=1)

    def findings(self) -> list[tuple[str, str]]:
        """What is wrong with the sound itself, each told once when found (see BandCheck,
        ClipCheck): (message, what the guide says of it)."""
        return [(finding, check.SAY) for check in self.checks if (finding := check.take())]

    def flush(self) -> AudioChunk:
        """The last samples of a clip: what the filter and the resampler still hold."""
        if not self.rate or self.rate == RECOGNIZER_RATE:
            return self._made(np.zeros(0, np.int16))
        tail = self._filter(np.zeros(self.TAPS // 2)) if self.kernel is not None else np.zeros(0)
        return self._made(self._resample(tail, final=True))

    def _made(self, samples: np.ndarray) -> AudioChunk:
        """Output samples, timestamped where they fall in the converted stream."""
        chunk = AudioChunk(samples, RECOGNIZER_RATE, 1, self.t0 + self.made / RECOGNIZER_RATE)
        self.made += len(samples)
        return chunk

    def _filter(self, mono: np.ndarray) -> np.ndarray:
        if self.kernel is None:
            return mono
        joined = np.concatenate([self.history, mono])
        self.history = joined[len(joined) - len(self.history) :]
        return np.convolve(joined, self.kernel, mode="valid")

    def _resample(self, filtered: np.ndarray, final: bool) -> np.ndarray:
        self.buffer = np.concatenate([self.buffer, filtered])
        if final:  # as many as the whole clip makes at 16 kHz
            count = max(0, round(self.taken / self.step) - self.made)
        else:  # every output sample with input on both sides of it
            newest = self.origin + len(self.buffer) - 1
            count = max(0, int(np.floor((newest - 1 - self.position) / self.step)) + 1)
        positions = self.position + np.arange(count) * self.step - self.origin
        samples = np.interp(positions, np.arange(len(self.buffer)), self.buffer) if len(self.buffer) else np.zeros(count)
        self.position += count * self.step
        drop = max(0, int(np.floor(self.position)) - self.origin)
        self.buffer, self.origin = self.buffer[drop:], self.origin + drop
        return to_int16(samples)


def _lowpass(rate: int, taps: int) -> np.ndarray:
    """Windowed-sinc low-pass at 7.6 kHz, so downsampling to 16 kHz does not alias."""
    cutoff = 0.95 * (RECOGNIZER_RATE / 2) / rate
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff * n) * np.hamming(taps)
    return kernel / kernel.sum()


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Rounded and clipped to 16-bit samples."""
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


def amplified(pcm: bytes, db: float) -> bytes:
    """16-bit little-endian samples made `db` louder (clipped at full scale)."""
    return to_int16(np.frombuffer(pcm, "<i2") * 10 ** (db / 20)).astype("<i2").tobytes()


class DcBlock:
    """Takes a DC offset away before anything listens. A cheap microphone's offset counts as
    sound to the level and voice detectors: an offset of 3000 made a quiet room sound noisy, lost
    the first command said and turned "pain" into "ten".

    The classic one-pole blocker, y[n] = x[n] - x[n-1] + POLE * y[n-1]: 3 dB down at 13 Hz, 0.3
    at 50 Hz, nothing a voice has. The recursion runs in numpy as a cumulative sum over 10 ms
    pieces (short enough that POLE ** -160, 2.2, costs no precision).
    """

    POLE = 0.995
    PIECE = 160
    POWERS = POLE ** np.arange(PIECE)

    def __init__(self) -> None:
        self.x = self.y = 0.0  # the last input and output samples

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Filtered samples (float), following on from the last call's."""
        x = samples.astype(np.float64)
        change = np.diff(x, prepend=self.x)
        out = np.empty(len(x))
        for i in range(0, len(x), self.PIECE):
            piece = change[i : i + self.PIECE]
            powers = self.POWERS[: len(piece)]
            out[i : i + len(piece)] = powers * (self.POLE * self.y + np.cumsum(piece / powers))
            self.y = out[i + len(piece) - 1]
        if len(x):
            self.x = x[-1]
        return out


def split(chunk: AudioChunk, seconds: float = CHUNK_SECONDS) -> list[AudioChunk]:
    """Consecutive pieces of `seconds` each, timestamps following on from chunk.timestamp."""
    step = int(chunk.rate * seconds) * chunk.channels
    return [
        AudioChunk(chunk.samples[i : i + step], chunk.rate, chunk.channels,
                   chunk.timestamp + i / chunk.channels / chunk.rate)
        for i in range(0, len(chunk.samples), step)
    ]
