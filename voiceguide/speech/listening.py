"""Ears: build a recogniser for a language, and command sources from WAV files and microphones."""

from __future__ import annotations

import contextlib
import json
import math
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.atomic import write_atomically
from voiceguide.clock import VirtualClock
from voiceguide.commands import Command, CommandEvent, device_said
from voiceguide.config import Config
from voiceguide.inputs import END_OF_INPUT, LiveSource, Polled, Trouble
from voiceguide.models import choose_engine
from voiceguide.speech.audio import AudioChunk, Converter, WavFile, split
from voiceguide.speech.echo import EchoTap
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
    cleaner = None if rec.noise_suppression == "never" else NoiseCleaner(always=rec.noise_suppression == "always")
    return Spotter(decoder, language, thresholds, cleaner=cleaner)


LISTENER = "listener.json"  # what the recogniser learned of the person's voice and room, beside the session logs


def resume_listener(recognizer: Spotter, path: Path) -> str | None:
    """Start from what the last session's recogniser learned; a message when the file is there
    but unusable (the recogniser then starts from its model's defaults, as on a first session)."""
    if not path.exists():
        return None
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        engine, learned = kept["engine"], [float(x) for x in kept["learned"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{path} is unreadable ({type(exc).__name__}); listening starts from the model's defaults"
    if engine != recognizer.decoder.name:
        return None  # another engine's learning: nothing this one can use, kept for a switch back
    if len(learned) != len(recognizer.learned()) or not all(map(math.isfinite, learned)):
        return f"{path} is damaged; listening starts from the model's defaults"
    recognizer.adopt(learned)
    return None


def keep_listener(recognizer: Spotter, path: Path) -> None:
    """Keep what this session's recogniser learned for the next. Raises OSError."""
    learned = recognizer.learned()
    if learned:
        write_atomically(path, json.dumps({"engine": recognizer.decoder.name, "learned": learned}).encode())


def wav_chunks(path: Path, converter: Converter | None = None) -> Iterator[AudioChunk]:
    """A WAV file as 16 kHz mono chunks, timestamped by audio position, read a block at a time
    (through `converter`, whose findings() then tell of the file's sound). A file that is not a
    readable WAV is refused here, before any audio is used."""
    wav = WavFile.open(path)
    converter = converter or Converter()

    def chunks() -> Iterator[AudioChunk]:
        for block in wav.blocks():
            yield from split(converter.convert(block))
        yield from split(converter.flush())

    return chunks()


def listen_file(path: Path, recognizer: Spotter, converter: Converter | None = None) -> list[CommandEvent]:
    events: list[CommandEvent] = []
    for chunk in wav_chunks(path, converter):
        events += recognizer.feed(chunk)
    return events + recognizer.finish()


class WavSource:
    """Commands heard in a WAV file; the session clock is the audio consumed."""

    def __init__(self, path: Path, recognizer: Spotter, echo: EchoTap | None = None) -> None:
        self.name = path.name
        self.converter = Converter()
        self.chunks = wav_chunks(path, self.converter)
        self.held: AudioChunk | None = None  # read, but not yet due
        self.recognizer = recognizer
        self.echo = echo  # the guide's own voice, mixed in as a microphone beside the speaker hears it
        self.clock = VirtualClock()
        self.ready: list[CommandEvent | Trouble] = []
        self.done = False

    def poll(self, until: float | None) -> Polled:
        while not self.ready:
            if self.done:
                return END_OF_INPUT
            chunk, self.held = self.held or next(self.chunks, None), None
            if chunk is None:
                self.done = True
                self.ready += self.recognizer.finish()
                continue
            if until is not None and chunk.end > until + 1e-9:
                self.held = chunk  # nothing is heard before `until`; keep it for the next poll
                self.clock.advance(until)
                return None
            self.ready += self.recognizer.feed(self.echo.mix(chunk) if self.echo else chunk)
            self.clock.advance(chunk.end)
            self.ready += [Trouble(self.clock.now(), f"{self.name}: {finding}", say)
                           for finding, say in self.converter.findings()]
        return self.ready.pop(0)

    def now(self) -> float:
        return self.clock.now()

    def close(self) -> None:
        pass

    def listen_for_numbers(self, on: bool) -> None:
        self.recognizer.listen_for_numbers(on)


def wav_source(path: Path, language: str, config: Config, engine: str | None) -> WavSource:
    return WavSource(path, build_recognizer(language, config, engine))


OVERFLOWS_EVERY = 60.0  # seconds: input overflows are logged at most this often


class MicSource(LiveSource):
    """Live microphone at its own rate and channels; decoding on its own thread.

    `open_stream(deliver, overflowed)` opens the device and returns a started stream (with `active`,
    `stop()`, `close()`), or raises when the device is absent. When the stream dies (the
    microphone is unplugged) the source says PAUSE, tries again every `retry` seconds, and
    says RESUME once the device is back; overflows are counted, never fatal.

    A microphone muted at the device (the button on a speakerphone) stays plugged in and sends
    digital silence: nothing would be heard, "pain" included, and the guide would go on as if
    all were well. No real microphone is that quiet, so `muted_after` seconds of it say PAUSE,
    and sound again says RESUME.

    A stream can also stall: still open and active, but no sound comes (a USB device whose
    driver has hung, a sound server that lost the device). A stream delivers a block every
    50 ms, so `stalled_after` seconds without one count as a lost device (4 s leaves time for a
    Bluetooth device, slow to start). A device counts as back once sound comes from it again,
    not when it merely opens: one that opens and stalls again is retried without a word.
    """

    def __init__(self, recognizer: Spotter, open_stream: Callable[..., Any],
                 name: str = "microphone", retry: float = 3.0, muted_after: float = 5.0,
                 stalled_after: float = 4.0) -> None:
        super().__init__()
        self.recognizer = recognizer
        self.open_stream = open_stream
        self.name = name
        self.retry = retry
        self.muted_after = muted_after
        self.stalled_after = stalled_after
        self.away = False  # lost, and no sound from it since
        self.silent_for = 0.0  # seconds of digital silence in a row
        self.muted = False
        self.audio: queue.Queue[AudioChunk | None] = queue.Queue()
        self.converter = Converter()  # blocks to 16 kHz mono, continuous across block edges
        self.overflows = 0
        self.overflows_told = 0  # how many of them the log has been told of
        self.told_at = -math.inf
        self.closed = False
        self.stream = open_stream(self._heard_audio, self._overflowed)
        self.heard_at = self.clock.now()  # when the stream last delivered audio
        threading.Thread(target=self._decode, daemon=True, name="recogniser").start()

    def listen_for_numbers(self, on: bool) -> None:
        self.recognizer.listen_for_numbers(on)  # taken up by the decoding thread at the next utterance

    def _heard_audio(self, samples: np.ndarray, rate: int, channels: int) -> None:
        """From the audio thread: interleaved int16 samples just captured."""
        seconds = len(samples) / channels / rate
        self.audio.put(AudioChunk(samples, rate, channels, self.clock.now() - seconds))

    def _overflowed(self) -> None:
        self.overflows += 1  # counted, not fatal: a few lost milliseconds of audio

    def _notice(self, command: Command, text: str) -> None:
        now = self.clock.now()
        self.queue.put(CommandEvent(command, text, 1.0, now, now))

    def _decode(self) -> None:
        while not self.closed:
            try:
                chunk = self.audio.get(timeout=0.5)
            except queue.Empty:
                stalled = self.clock.now() - self.heard_at > self.stalled_after
                if not self.stream.active or stalled:
                    self._reconnect(stalled)
                continue
            if chunk is None:
                return
            self.heard_at = self.clock.now()
            if self.away:
                self.away = False
                self._notice(Command.RESUME, device_said(self.name, "back"))
            self._check_muted(chunk)
            self._tell_of_trouble()
            for event in self.recognizer.feed(self.converter.convert(chunk)):
                # The recogniser counts audio, which pauses while a device is away; the session
                # runs on the wall clock, so restamp the event with the time it was heard.
                now = self.clock.now()
                self.queue.put(replace(event, word_end=round(now - (event.emitted_at - event.word_end), 3),
                                       emitted_at=round(now, 3)))

    def _tell_of_trouble(self) -> None:
        """Log what is wrong with the sound itself: overflows (a moment of audio lost each, when
        the computer is too busy to take it in time), at most once a minute; and what the
        conversion found wrong with the sound (telephone band, clipping)."""
        now = self.clock.now()
        if self.overflows > self.overflows_told and now - self.told_at >= OVERFLOWS_EVERY:
            self.overflows_told, self.told_at = self.overflows, now
            self.queue.put(Trouble(now, f"{self.name}: {self.overflows} input overflows so far, a moment of sound "
                                       "lost each time; the computer is too busy to take the audio in time."))
        for finding, say in self.converter.findings():
            self.queue.put(Trouble(now, f"{self.name}: {finding}", say))

    def _check_muted(self, chunk: AudioChunk) -> None:
        if len(chunk.samples) and int(np.abs(chunk.samples.astype(np.int32)).max()) > 1:
            self.silent_for = 0.0
            if self.muted:
                self.muted = False
                self._notice(Command.RESUME, device_said(self.name, "unmuted"))
            return
        self.silent_for += chunk.seconds
        if not self.muted and self.silent_for >= self.muted_after:
            self.muted = True
            self._notice(Command.PAUSE, device_said(self.name, "muted"))

    def _reconnect(self, stalled: bool = False) -> None:
        if not self.away:
            self.away = True
            self._notice(Command.PAUSE, device_said(self.name, "lost"))
            if stalled:
                self.queue.put(Trouble(self.clock.now(), f"{self.name}: no sound for {self.stalled_after:g} s "
                                                         "although the device is still open; opening it again."))
        # Closing a hung device can hang too: on a thread of its own, it cannot hold up the retries.
        threading.Thread(target=_close_quietly, args=(self.stream,), daemon=True, name="close-input").start()
        while not self.closed:
            time.sleep(self.retry)
            try:
                self.stream = self.open_stream(self._heard_audio, self._overflowed)
            except Exception:  # noqa: S112 - still unplugged; PortAudio raises its own types
                continue
            self.converter = Converter()  # the audio before the gap is not continued
            self.silent_for, self.muted, self.heard_at = 0.0, False, self.clock.now()
            return

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            self.stream.stop()
            self.stream.close()
        self.audio.put(None)


def _close_quietly(stream: Any) -> None:
    with contextlib.suppress(Exception):
        stream.close()


_ENDED: list[Any] = []  # the stream of the guide's speech when PortAudio last started afresh, which that ended


def refresh_devices(sounddevice: Any) -> None:
    """Start PortAudio afresh. It lists the devices once, when it starts: a USB
    microphone plugged in again is not found (or found under its old number) until then.
    Starting afresh stops every stream, so not while the guide's speech is playing; and a
    stream it ended is not asked whether it plays (PortAudio has freed it)."""
    try:
        speech = sounddevice.get_stream()
    except RuntimeError:
        speech = None  # nothing has been played
    if speech is not None and not any(speech is ended for ended in _ENDED) and speech.active:
        return
    sounddevice._terminate()
    sounddevice._initialize()
    _ENDED[:] = [speech]


def sounddevice_opener(wanted: str) -> Callable[..., Any]:
    """Opens the input whose name contains `wanted`, at its own rate and channel count; opened
    again after a loss, with PortAudio's list of devices refreshed first."""
    opened = False

    def open_stream(deliver: Callable[[np.ndarray, int, int], None], overflowed: Callable[[], None]) -> Any:
        import sounddevice

        from voiceguide.devices import pick_device

        nonlocal opened
        if opened:
            refresh_devices(sounddevice)
        opened = True

        device = pick_device("input", wanted)  # by name each time: card numbers change on replug
        rate = int(device["default_samplerate"])
        channels = min(2, int(device["max_input_channels"]))

        def callback(indata: np.ndarray, frames: int, _time: object, status: object) -> None:
            if getattr(status, "input_overflow", False):
                overflowed()
            deliver(indata.reshape(-1).copy(), rate, channels)

        stream = sounddevice.InputStream(device=device["index"], samplerate=rate, channels=channels, dtype="int16",
                                         blocksize=int(rate * 0.05), callback=callback)
        stream.start()
        return stream

    return open_stream


def sample_microphone(wanted: str, seconds: float = 1.5) -> list[AudioChunk]:
    """The blocks an input sends in `seconds`, opened as a session opens it (sounddevice_opener).
    Raises what opening raises."""
    blocks: list[AudioChunk] = []

    def deliver(samples: np.ndarray, rate: int, channels: int) -> None:
        blocks.append(AudioChunk(samples, rate, channels))

    stream = sounddevice_opener(wanted)(deliver, lambda: None)
    try:
        time.sleep(seconds)
    finally:
        stream.stop()
        stream.close()
    return blocks


def mic_source(language: str, config: Config, engine: str | None) -> MicSource:
    return MicSource(build_recognizer(language, config, engine), sounddevice_opener(config.audio.input_device),
                     name=config.audio.input_device or "microphone")
