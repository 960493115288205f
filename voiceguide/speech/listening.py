"""Ears: build a recogniser for a language, and command sources from WAV files and microphones."""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from voiceguide.clock import VirtualClock
from voiceguide.commands import CommandEvent
from voiceguide.config import Config
from voiceguide.inputs import END_OF_INPUT, LiveSource, Polled
from voiceguide.models import choose_engine
from voiceguide.speech.audio import AudioChunk, read_wav, split, to_recognizer_format
from voiceguide.speech.recognizer import NoiseCleaner, Spotter, Thresholds


def build_recognizer(language: str, config: Config, engine: str | None = None,
                     announce: bool = True) -> Spotter:
    name, model, why = choose_engine(engine or config.recognition.engine, language, config.models_dir)
    if announce:
        print(f"voiceguide: {why}", file=sys.stderr)
    if name == "vosk":
        from voiceguide.speech.vosk_engine import VoskDecoder

        decoder = VoskDecoder(model, language)  # type: ignore[arg-type]
    else:
        from voiceguide.speech.sphinx_engine import SphinxDecoder

        decoder = SphinxDecoder(language)
    rec = config.recognition
    thresholds = (Thresholds(rec.threshold, rec.urgent_threshold) if name == "vosk"
                  else Thresholds(rec.sphinx_threshold, min(rec.sphinx_threshold, rec.urgent_threshold)))
    cleaner = NoiseCleaner() if rec.noise_suppression else None
    return Spotter(decoder, language, thresholds, cleaner=cleaner)


def wav_chunks(path: Path) -> Iterator[AudioChunk]:
    """A WAV file as 16 kHz mono chunks, timestamped by audio position."""
    audio = to_recognizer_format(read_wav(path))
    yield from split(audio)


def listen_file(path: Path, recognizer: Spotter) -> list[CommandEvent]:
    events: list[CommandEvent] = []
    for chunk in wav_chunks(path):
        events += recognizer.feed(chunk)
    return events + recognizer.finish()


class WavSource:
    """Commands heard in a WAV file; the session clock is the audio consumed."""

    def __init__(self, path: Path, recognizer: Spotter) -> None:
        self.chunks = wav_chunks(path)
        self.recognizer = recognizer
        self.clock = VirtualClock()
        self.ready: list[CommandEvent] = []
        self.done = False

    def poll(self, until: float | None) -> Polled:
        while not self.ready:
            if self.done:
                return END_OF_INPUT
            chunk = next(self.chunks, None)
            if chunk is None:
                self.done = True
                self.ready += self.recognizer.finish()
                continue
            if until is not None and chunk.timestamp >= until:
                # Put it back: nothing is heard before `until`.
                self.chunks = _prepend(chunk, self.chunks)
                self.clock.advance(until)
                return None
            self.ready += self.recognizer.feed(chunk)
            self.clock.advance(chunk.end)
        return self.ready.pop(0)

    def now(self) -> float:
        return self.clock.now()

    def close(self) -> None:
        pass


def _prepend(first: AudioChunk, rest: Iterator[AudioChunk]) -> Iterator[AudioChunk]:
    yield first
    yield from rest


def wav_source(path: Path, language: str, config: Config, engine: str | None) -> WavSource:
    return WavSource(path, build_recognizer(language, config, engine))


class MicSource(LiveSource):
    """Live microphone at its own rate and channels; decoding on its own thread."""

    def __init__(self, recognizer: Spotter, device: dict) -> None:
        import sounddevice

        super().__init__()
        self.recognizer = recognizer
        self.audio: queue.Queue[AudioChunk | None] = queue.Queue()
        self.overflows = 0
        rate = int(device["default_samplerate"])
        channels = min(2, int(device["max_input_channels"]))

        def callback(indata: np.ndarray, frames: int, _time: object, status: object) -> None:
            if getattr(status, "input_overflow", False):
                self.overflows += 1  # counted, not fatal
            self.audio.put(AudioChunk(indata.reshape(-1).copy(), rate, channels, self.clock.now() - frames / rate))

        self.stream = sounddevice.InputStream(device=device["index"], samplerate=rate, channels=channels,
                                              dtype="int16", blocksize=int(rate * 0.05), callback=callback)
        threading.Thread(target=self._decode, daemon=True, name="recogniser").start()
        self.stream.start()

    def _decode(self) -> None:
        while (chunk := self.audio.get()) is not None:
            for event in self.recognizer.feed(to_recognizer_format(chunk)):
                self.queue.put(event)

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()
        self.audio.put(None)


def mic_source(language: str, config: Config, engine: str | None) -> MicSource:
    from voiceguide.devices import pick_device

    device = pick_device("input", config.audio.input_device)
    return MicSource(build_recognizer(language, config, engine), device)
