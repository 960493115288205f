"""A microphone that fails on cue: the session pauses, the source retries, the session resumes,
and the log keeps every event. The device is fake (there is no sound card here); the
recogniser, session, runner and log are real."""

from __future__ import annotations

import io
import subprocess
import threading
import time

import numpy as np

from voiceguide.config import Config
from voiceguide.journal import Journal, read_log, summarise
from voiceguide.runner import Runner
from voiceguide.session import Session
from voiceguide.speech.listening import MicSource, build_recognizer
from voiceguide.speech.speaker import PrintSpeaker


class FakeStream:
    """Delivers 50 ms blocks of 48 kHz stereo audio every 50 ms until unplugged: quiet, and
    after a second what `say` holds (48 kHz stereo samples), once."""

    def __init__(self, deliver, overflowed, say: np.ndarray | None = None, say_at: float = 1.0,
                 stalled: bool = False) -> None:
        self.active = True
        self.muted = False  # the device's own mute: it sends digital silence
        self.stalled = stalled  # open and active, but nothing comes (a hung driver)
        self.overflow_blocks: set[int] = set()  # blocks before which audio was lost (the computer too busy)
        self.deliver, self.overflowed = deliver, overflowed
        self.say, self.say_at = say, say_at
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        # Each block made as it is due: a minute of noise made up front held the first block back
        # long enough, on a busy machine, to pass for a stalled device.
        rng = np.random.default_rng(0)
        size, at = 2400 * 2, int(self.say_at * 48000) * 2
        for start in range(0, 48000 * 2 * 60, size):
            while self.stalled and self.active:
                time.sleep(0.05)
            if not self.active:
                return
            if start // size in self.overflow_blocks:
                self.overflowed()
            block = rng.normal(0, 20, size)
            if self.say is not None:
                lo, hi = max(start, at), min(start + size, at + len(self.say))
                if lo < hi:
                    block[lo - start : hi - start] += self.say[lo - at : hi - at]
            block = np.clip(block, -32768, 32767).astype(np.int16)
            self.deliver(np.zeros_like(block) if self.muted else block, 48000, 2)
            time.sleep(0.05)

    def unplug(self) -> None:
        self.active = False

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False


class FakeDevice:
    def __init__(self) -> None:
        self.absent = 0  # how many more opening attempts fail
        self.stalling = 0  # how many more streams opened stall at once
        self.streams: list[FakeStream] = []
        self.attempts = 0
        self.say: np.ndarray | None = None  # what the next stream opened will hear

    def open(self, deliver, overflowed) -> FakeStream:
        self.attempts += 1
        if self.absent:
            self.absent -= 1
            raise OSError("Device unavailable [PaErrorCode -9985]")
        self.streams.append(FakeStream(deliver, overflowed, self.say, stalled=self.stalling > 0))
        self.stalling = max(0, self.stalling - 1)
        return self.streams[-1]


def wait_for(predicate, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def stereo_48k(samples: np.ndarray, tmp_path) -> np.ndarray:
    """16 kHz mono speech as a USB microphone delivers it (SoX resamples)."""
    from voiceguide.speech.audio import AudioChunk, read_wav, write_wav

    write_wav(tmp_path / "16k.wav", AudioChunk(samples, 16000))
    subprocess.run(["sox", str(tmp_path / "16k.wav"), "-r", "48000", "-c", "2", str(tmp_path / "48k.wav")], check=True)
    return read_wav(tmp_path / "48k.wav").samples.astype(np.float64)


def session_in_background(routine, source, tmp_path):  # noqa: ANN001, ANN201
    """A session listening to `source` on its own thread: (thread, log path, what the guide said)."""
    log_path, out = tmp_path / "s.jsonl", io.StringIO()
    thread = threading.Thread(target=Runner(Session(routine), PrintSpeaker(out=out), Journal(log_path), source).run)
    thread.start()
    return thread, log_path, out


def logged_when_done(thread: threading.Thread, log_path) -> tuple[list[tuple[str, str]], str]:  # noqa: ANN001
    """Once the session has ended: (type, text) of each logged event, and the session's status."""
    thread.join(timeout=30)
    assert not thread.is_alive()
    log = read_log(log_path)
    return [(e.type, getattr(e, "text", "")) for e in log.events], summarise(log)["status"]


def test_unplugged_microphone_pauses_retries_and_resumes(small_routine, tmp_path):
    from voiceguide.corpus import Voice, speak

    device = FakeDevice()
    source = MicSource(build_recognizer("en", Config(), "pocketsphinx", announce=False), device.open,
                       name="fake mic", retry=0.2)
    thread, log_path, out = session_in_background(small_routine, source, tmp_path)
    time.sleep(1.0)
    device.absent = 2
    # Once back, the microphone hears "stop", in 50 ms blocks of 48 kHz stereo.
    device.say = stereo_48k(speak("stop", Voice("en-us", 150), tmp_path), tmp_path)
    device.streams[-1].unplug()
    wait_for(lambda: "(fake mic back)" in log_path.read_text())
    assert device.attempts == 4  # the first open, two refusals, then success
    kinds, status = logged_when_done(thread, log_path)
    lost = kinds.index(("command", "(fake mic lost)"))
    back = kinds.index(("command", "(fake mic back)"))
    assert ("paused", "") in kinds[lost:back] and ("resumed", "") in kinds[back:]
    assert status == "stopped"
    # Said aloud: what happened, not "Say resume", which the guide could not have heard.
    assert "the microphone is disconnected. Paused until it is back." in out.getvalue()
    assert "I can hear you again. Resuming." in out.getvalue()


def test_a_stalled_microphone_is_opened_again_and_back_only_when_sound_comes(small_routine, tmp_path):
    from voiceguide.corpus import Voice, speak

    device = FakeDevice()
    source = MicSource(build_recognizer("en", Config(), "pocketsphinx", announce=False), device.open,
                       name="fake mic", retry=0.2, stalled_after=0.5)
    thread, log_path, out = session_in_background(small_routine, source, tmp_path)
    time.sleep(1.0)
    device.stalling = 1  # the first stream opened again stalls too
    device.say = stereo_48k(speak("stop", Voice("en-us", 150), tmp_path), tmp_path)
    device.streams[-1].stalled = True  # still active: only the silence of its callbacks tells
    wait_for(lambda: "(fake mic back)" in log_path.read_text())
    assert len(device.streams) == 3
    kinds, status = logged_when_done(thread, log_path)
    assert kinds.count(("command", "(fake mic lost)")) == 1 and kinds.count(("command", "(fake mic back)")) == 1
    lost = kinds.index(("command", "(fake mic lost)"))
    back = kinds.index(("command", "(fake mic back)"))
    assert ("paused", "") in kinds[lost:back] and ("command", "stop") in kinds[back:]
    assert status == "stopped"
    notices = [e.message for e in read_log(log_path).events if e.type == "notice"]
    assert notices == ["fake mic: no sound for 0.5 s although the device is still open; opening it again."]
    assert out.getvalue().count("I can hear you again. Resuming.") == 1


def test_a_muted_microphone_pauses_the_session_and_unmuting_resumes_it(small_routine, tmp_path):
    from voiceguide.corpus import Voice, speak

    stop = stereo_48k(speak("stop", Voice("en-us", 150), tmp_path), tmp_path)
    streams: list[FakeStream] = []

    def open_stream(deliver, overflowed) -> FakeStream:
        streams.append(FakeStream(deliver, overflowed, say=stop, say_at=4.0))
        return streams[-1]

    source = MicSource(build_recognizer("en", Config(), "pocketsphinx", announce=False), open_stream,
                       name="fake mic", muted_after=0.5)
    thread, log_path, _ = session_in_background(small_routine, source, tmp_path)
    time.sleep(1.0)
    streams[0].muted = True  # the button on the speakerphone
    wait_for(lambda: "(fake mic muted)" in log_path.read_text())
    streams[0].muted = False  # in time for the "stop" 4 s in
    kinds, status = logged_when_done(thread, log_path)
    muted = kinds.index(("command", "(fake mic muted)"))
    back = kinds.index(("command", "(fake mic unmuted)"))
    assert ("paused", "") in kinds[muted:back] and ("resumed", "") in kinds[back:]
    assert ("command", "stop") in kinds[back:]
    assert status == "stopped"
    assert len(streams) == 1  # nothing was unplugged
    # For whoever reviews the session: the device's doings, apart from the person's commands.
    assert [n["message"] for n in summarise(read_log(log_path))["notes"]] == ["fake mic muted", "fake mic unmuted"]


def test_input_overflows_are_logged_and_the_session_goes_on(small_routine, tmp_path):
    from voiceguide.corpus import Voice, speak

    stop = stereo_48k(speak("stop", Voice("en-us", 150), tmp_path), tmp_path)
    streams: list[FakeStream] = []

    def open_stream(deliver, overflowed) -> FakeStream:
        streams.append(FakeStream(deliver, overflowed, say=stop, say_at=3.0))
        streams[-1].overflow_blocks = {10, 11, 12, 30}  # 0.5 s in, three in a row, then one more at 1.5 s
        return streams[-1]

    source = MicSource(build_recognizer("en", Config(), "pocketsphinx", announce=False), open_stream, name="fake mic")
    thread, log_path, _ = session_in_background(small_routine, source, tmp_path)
    kinds, status = logged_when_done(thread, log_path)
    notices = [e.message for e in read_log(log_path).events if e.type == "notice"]
    # Told once in a minute, with the count when first told; the later one waits for the next minute.
    assert len(notices) == 1 and notices[0].startswith("fake mic: ") and " input overflows so far" in notices[0]
    assert source.overflows == 4
    assert ("command", "stop") in kinds and status == "stopped"


class FakeSoundDevice:
    """Stands in for the sounddevice module: no loudspeaker on this machine. `unplugged` makes
    playing fail as PortAudio does; `devices` is what it lists."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.unplugged = False
        self.devices = [{"name": "USB speakerphone: Audio (hw:1,0)", "max_output_channels": 2, "max_input_channels": 1}]

    def play(self, samples, rate, device=None) -> None:
        if self.unplugged:
            raise OSError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")
        self.calls.append(("play", len(samples), rate, device))

    def query_devices(self) -> list[dict]:
        return [] if self.unplugged else self.devices

    def check_output_settings(self, device=None, channels=None, samplerate=None) -> None:  # noqa: ANN001
        if self.unplugged:
            raise OSError("Error querying device 0 [PaErrorCode -9996]")

    def stop(self) -> None:
        self.calls.append(("stop",))


def test_live_speaker_plays_rendered_speech_and_keeps_what_it_played_for_the_echo_canceller(monkeypatch):
    import sys

    from voiceguide.speech.audio import RECOGNIZER_RATE
    from voiceguide.speech.speaker import LiveSpeaker
    from voiceguide.speech.tts import Renderer

    fake = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    speaker = LiveSpeaker(Renderer("en", 160), device=3)
    seconds = speaker.say("Press your lower back into the floor.", at=10.0)
    assert seconds > 1.0
    assert fake.calls[0][0] == "play" and fake.calls[0][3] == 3 and fake.calls[0][1] / fake.calls[0][2] == seconds
    heard = speaker.playback.span(10.0, int(seconds * RECOGNIZER_RATE))
    assert np.abs(heard).max() > 1000  # the reference holds the speech, on the session clock
    assert np.abs(speaker.playback.span(8.0, RECOGNIZER_RATE)).max() == 0
    speaker.stop(10.5)  # a person said "stop" half a second in
    assert fake.calls[-1] == ("stop",)
    assert np.abs(speaker.playback.span(10.6, RECOGNIZER_RATE)).max() == 0  # nothing after the cut
    assert np.abs(speaker.playback.span(10.0, RECOGNIZER_RATE // 2)).max() > 1000


def test_an_unplugged_loudspeaker_pauses_the_session_until_it_is_found_again_by_name(monkeypatch, small_routine, tmp_path):
    """While the person cannot hear the guide the session waits, printing what it says; the log
    says when the loudspeaker went and came back; once replugged, under another number, it is
    found by its name, and the session goes on from where it was."""
    import sys

    from voiceguide.inputs import ScriptSource, read_script
    from voiceguide.speech.speaker import LiveSpeaker
    from voiceguide.speech.tts import Renderer

    fake = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    out = io.StringIO()
    speaker = LiveSpeaker(Renderer("en", 160), device=3, wanted="speakerphone", out=out)
    script = tmp_path / "said.txt"
    script.write_text("200 next\n")

    class Unplugging(ScriptSource):  # unplugs the device 5 s in and plugs it back, renumbered, at 30 s
        def poll(self, until):  # noqa: ANN001, ANN201
            item = super().poll(until)
            fake.unplugged = 5 <= self.now() < 30
            if self.now() >= 30:
                fake.devices = [dict(fake.devices[0], name="USB speakerphone: Audio (hw:2,0)")]
            return item

    log_path = tmp_path / "s.jsonl"
    Runner(Session(small_routine), speaker, Journal(log_path), Unplugging(read_script(script))).run()
    log = read_log(log_path)
    notices = [(e.t, e.message) for e in log.events if e.type == "notice"]
    assert len(notices) == 2, notices
    (lost_at, lost), (back_at, back) = notices
    assert lost.startswith("loudspeaker: cannot play (") and "Device unavailable" in lost and 5 <= lost_at < 30
    assert back == "loudspeaker: back; speaking again" and 30 <= back_at < 30 + LiveSpeaker.RETRY + 1
    kinds = [(e.t, e.type, getattr(e, "text", "")) for e in log.events if e.type in ("paused", "resumed", "command")]
    assert [k[1:] for k in kinds] == [("command", "(loudspeaker silent)"), ("paused", ""),
                                      ("command", "(loudspeaker sounding)"), ("resumed", "")], kinds
    assert lost_at <= kinds[1][0] < lost_at + 2 and kinds[3][0] == back_at
    assert summarise(log)["status"] == "completed"
    printed = out.getvalue().splitlines()
    assert printed and all(line.startswith("[00:") for line in printed)  # what could not be played, with its time
    assert printed[-1].endswith("The loudspeaker is disconnected, and you cannot hear me. Paused until it is back.")
    played = [c for c in fake.calls if c[0] == "play"]
    assert played[0][3] == 3 and played[-1][3] == 0  # found again by name: the only device it lists now


def test_a_microphone_opened_again_refreshes_portaudios_list_of_devices_unless_speech_is_playing(monkeypatch):
    import sys

    from voiceguide.speech.listening import sounddevice_opener

    class Stream:
        def __init__(self, active: bool = True, **_kwargs) -> None:
            self.active = active

        def start(self) -> None:
            pass

    class FakePortAudio(FakeSoundDevice):
        def __init__(self) -> None:
            super().__init__()
            self.restarts = 0
            self.playing = Stream(active=False)

        def _terminate(self) -> None:
            self.restarts += 1

        def _initialize(self) -> None:
            pass

        def get_stream(self) -> Stream:
            return self.playing

        InputStream = Stream

    fake = FakePortAudio()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    fake.devices[0]["default_samplerate"] = 48000.0
    open_stream = sounddevice_opener("speakerphone")
    open_stream(None, None)
    assert fake.restarts == 0  # the first time, the list is fresh
    open_stream(None, None)
    assert fake.restarts == 1
    fake.playing = Stream(active=True)  # restarting PortAudio would cut the guide's sentence
    open_stream(None, None)
    assert fake.restarts == 1
    fake.playing.active = False  # the sentence is over
    open_stream(None, None)
    assert fake.restarts == 2

    class Freed:  # once PortAudio has restarted, it has freed this stream: asking it is not safe
        @property
        def active(self) -> bool:
            if fake.restarts > restarted:
                raise AssertionError("asked a freed stream")
            return False

    fake.playing, restarted = Freed(), fake.restarts
    open_stream(None, None)  # a finished sentence: restarts, and so frees its stream
    open_stream(None, None)  # restarts again without asking it
    assert fake.restarts == 4


def test_a_speakerphone_unplugged_loses_both_and_the_session_waits_until_it_can_be_heard(monkeypatch, small_routine,
                                                                                          tmp_path):
    """A USB speakerphone is the microphone and the loudspeaker. Unplugged, the session pauses
    for the microphone, whose silence is noticed first; plugged back in, the microphone is back
    before the loudspeaker is found again. The session must not go on unheard meanwhile, and
    must go on once both are back."""
    import sys

    from voiceguide.corpus import Voice, speak
    from voiceguide.speech.speaker import LiveSpeaker
    from voiceguide.speech.tts import Renderer

    fake = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    monkeypatch.setattr(LiveSpeaker, "RETRY", 1.0)
    monkeypatch.setattr(Runner, "SPEAKER_CHECK", 0.1)
    device = FakeDevice()
    source = MicSource(build_recognizer("en", Config(), "pocketsphinx", announce=False), device.open,
                       name="speakerphone", retry=0.2)
    speaker = LiveSpeaker(Renderer("en", 160), device=0, wanted="speakerphone", out=io.StringIO())
    log_path = tmp_path / "s.jsonl"
    thread = threading.Thread(target=Runner(Session(small_routine), speaker, Journal(log_path), source).run)
    thread.start()
    time.sleep(1.0)
    device.absent = 3
    device.streams[-1].unplug()
    wait_for(lambda: "(speakerphone lost)" in log_path.read_text())
    fake.unplugged = True  # unplugged together; the loudspeaker's loss shows when it next plays
    wait_for(lambda: "(speakerphone back)" in log_path.read_text())
    wait_for(lambda: "(loudspeaker silent)" in log_path.read_text())
    device.say = stereo_48k(speak("stop", Voice("en-us", 150), tmp_path), tmp_path)  # heard by the next stream
    fake.unplugged = False
    wait_for(lambda: "(loudspeaker sounding)" in log_path.read_text())
    device.streams[-1].unplug()  # opened again at once, now hearing "stop"
    thread.join(timeout=30)
    assert not thread.is_alive()
    log = read_log(log_path)
    happened = [getattr(e, "text", e.type) for e in log.events if e.type in ("command", "paused", "resumed")]
    # The microphone's return resumes, but the guide cannot be heard: paused again at once, for
    # the loudspeaker, until it is back.
    lost = happened.index("(speakerphone lost)")
    assert happened[lost:lost + 8] == ["(speakerphone lost)", "paused", "(speakerphone back)", "resumed",
                                       "(loudspeaker silent)", "paused", "(loudspeaker sounding)", "resumed"], happened
    assert "stop" in happened[lost + 8:] and summarise(log)["status"] == "stopped"


def test_a_session_resumed_by_the_microphone_while_the_loudspeaker_is_still_lost_waits_for_it(monkeypatch,
                                                                                             small_routine, tmp_path):
    """The loudspeaker fails as the guide says the microphone is lost; the microphone comes back
    first. Resuming then would go on unheard: the session pauses again, for the loudspeaker."""
    import sys

    from voiceguide.commands import Command, CommandEvent, device_said
    from voiceguide.inputs import ScriptSource
    from voiceguide.speech.speaker import LiveSpeaker
    from voiceguide.speech.tts import Renderer

    fake = FakeSoundDevice()
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    speaker = LiveSpeaker(Renderer("en", 160), device=0, wanted="speakerphone", out=io.StringIO())

    def said(at: float, command: Command, text: str) -> CommandEvent:
        return CommandEvent(command, text, 1.0, at, at)

    class Unplugging(ScriptSource):  # both go with the microphone's loss; the loudspeaker is back at 20 s
        def poll(self, until):  # noqa: ANN001, ANN201
            item = super().poll(until)
            if isinstance(item, CommandEvent) and item.text == "(microphone lost)":
                fake.unplugged = True
            if self.now() >= 20:
                fake.unplugged = False
            return item

    source = Unplugging([said(3.0, Command.PAUSE, device_said("microphone", "lost")),
                         said(10.0, Command.RESUME, device_said("microphone", "back")),
                         said(60.0, Command.STOP, "stop")])
    log_path = tmp_path / "s.jsonl"
    Runner(Session(small_routine), speaker, Journal(log_path), source).run()
    log = read_log(log_path)
    happened = [(round(e.t), getattr(e, "text", e.type)) for e in log.events if e.type in ("command", "paused", "resumed")]
    assert happened[:6] == [(3, "(microphone lost)"), (3, "paused"), (10, "(microphone back)"), (10, "resumed"),
                            (10, "(loudspeaker silent)"), (10, "paused")], happened
    assert happened[6][1] == "(loudspeaker sounding)" and 20 <= happened[6][0] < 20 + LiveSpeaker.RETRY + 1
    assert happened[7][1] == "resumed" and summarise(log)["status"] == "stopped"
