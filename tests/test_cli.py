"""The real CLI as a subprocess: scripted sessions, logs read back, errors a user would meet."""

from __future__ import annotations

import json
import re
import wave

import numpy as np
import pytest
from conftest import SMALL_ROUTINE, run_cli


def timestamp(line: str) -> float:
    minutes, seconds = re.match(r"\[(\d+):([\d.]+)\]", line).groups()
    return int(minutes) * 60 + float(seconds)


@pytest.fixture(scope="module")
def unattended(tmp_path_factory):
    """si-joint run with no commands at all: what was said, and when."""
    tmp = tmp_path_factory.mktemp("unattended")
    (tmp / "empty.txt").write_text("# nothing said\n")
    result = run_cli("run", "si-joint", "--input", f"script:{tmp / 'empty.txt'}", "--voice", "print",
                     "--log-dir", str(tmp / "logs"))
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines(), tmp / "logs"


def test_unattended_run_completes_every_move(unattended):
    lines, logs = unattended
    data = json.loads(run_cli("log", "--log-dir", str(logs), "show", "last", "--json").stdout)
    assert data["status"] == "completed"
    assert {e["status"] for e in data["exercises"]} == {"completed"}
    assert lines[-1].endswith("You finished 12 of 12 moves. Session over. Take care.")


def test_the_log_folder_can_follow_the_action(unattended, tmp_path):
    # `log last --log-dir DIR`, as with `run`; the folder given after the action wins.
    _, logs = unattended
    for args in (("last", "--json", "--log-dir", str(logs)), ("show", "last", "--json", "--log-dir", str(logs)),
                 ("--log-dir", str(tmp_path), "export", "--json", "--log-dir", str(logs))):
        result = run_cli("log", *args)
        assert result.returncode == 0, (args, result.stderr)
        session = result.stdout.splitlines()[0] if "export" in args else result.stdout  # export: one per line
        assert json.loads(session)["status"] == "completed"
    listed = run_cli("log", "list", "--log-dir", str(logs))
    assert "si-joint" in listed.stdout and "completed" in listed.stdout


def test_pain_in_the_bridge_fourth_rep_is_logged_and_the_session_goes_on(unattended, tmp_path):
    lines, _ = unattended
    rep4 = next(line for line in lines if "Rep 4 of 10. Squeeze and lift." in line)
    pain_at = round(timestamp(rep4) + 4.0, 1)  # during the hold of rep 4, as the script has it
    script = tmp_path / "pain.txt"
    script.write_text(f"{pain_at:.1f} pain\n{pain_at + 5:.1f} seven\n{pain_at + 20:.1f} next\n")
    logs = tmp_path / "logs"
    result = run_cli("run", "si-joint", "--input", f"script:{script}", "--voice", "print", "--log-dir", str(logs))
    assert result.returncode == 0, result.stderr
    data = json.loads(run_cli("log", "--log-dir", str(logs), "show", "last", "--json").stdout)
    by_id = {e["id"]: e for e in data["exercises"]}
    bridge = by_id["bridge"]
    assert (bridge["status"], bridge["reps_done"], bridge["reps_target"]) == ("pain", 3, 10)
    assert bridge["pain_at"]["rep"] == 4 and 0 < bridge["pain_at"]["second"] <= 5
    assert bridge["pain_level"] == 7
    assert by_id["cat-cow"]["status"] == "completed" and by_id["cat-cow"]["started"] >= pain_at + 20
    assert data["status"] == "completed"
    assert data["summary"] == "You finished 11 of 12 moves. Pain during the bridge, rep 4."
    assert "How bad is the pain" in result.stdout
    shown = run_cli("log", "--log-dir", str(logs), "show", "last").stdout
    assert "  pain at rep 4, " in shown and ", rated 7/10" in shown


def test_pain_before_the_first_rep_is_shown_as_between_reps(tmp_path):
    script = tmp_path / "said.txt"
    script.write_text("2 next\n4 next\n12 pain\n16 7\n20 stop\n")  # in the pelvic tilt's steps
    logs = tmp_path / "logs"
    assert run_cli("run", "si-joint", "--input", f"script:{script}", "--voice", "print", "--log-dir", str(logs)).returncode == 0
    shown = run_cli("log", "--log-dir", str(logs), "show", "last").stdout
    assert "  pain between reps, rated 7/10" in shown, shown


def test_a_pain_said_during_the_introduction_is_in_the_review(tmp_path):
    """It belongs to no move, but a therapist reading the log must still see it and its rating."""
    script = tmp_path / "said.txt"
    script.write_text("1 pain\n3 7\n5 next\n9 stop\n")
    logs = tmp_path / "logs"
    assert run_cli("run", "si-joint", "--input", f"script:{script}", "--voice", "print", "--log-dir", str(logs)).returncode == 0
    shown = run_cli("log", "--log-dir", str(logs), "show", "last").stdout
    assert re.search(r"\n  Pain before the first move, at 0:0[1-3], rated 7/10\n", shown), shown
    data = json.loads(run_cli("log", "--log-dir", str(logs), "show", "last", "--json").stdout)
    assert [(p["exercise"], p["level"]) for p in data["pains"]] == [(None, 7)]
    report = tmp_path / "report.html"
    assert run_cli("report", "--log-dir", str(logs), "--out", str(report)).returncode == 0
    assert "pain before the first move (7/10)" in report.read_text()


def test_stop_ends_the_session_as_stopped(tmp_path):
    script = tmp_path / "stop.txt"
    script.write_text("3 skip\n5 skip\n60 stop\n")  # the welcome, then pelvic tilt
    logs = tmp_path / "logs"
    assert run_cli("run", "si-joint-floor", "--input", f"script:{script}", "--voice", "print",
                   "--log-dir", str(logs)).returncode == 0
    data = json.loads(run_cli("log", "--log-dir", str(logs), "show", "last", "--json").stdout)
    statuses = [e["status"] for e in data["exercises"]]
    assert data["status"] == "stopped"
    assert statuses[:2] == ["skipped", "stopped"] and set(statuses[2:]) == {"not_reached"}


def test_bad_script_line_is_refused_with_its_number(tmp_path):
    script = tmp_path / "bad.txt"
    script.write_text("1 next\n2 jump\n")
    result = run_cli("run", "si-joint", "--input", f"script:{script}", "--voice", "print",
                     "--log-dir", str(tmp_path))
    assert result.returncode == 2
    assert f"{script}:2: 'jump' is not a command." in result.stderr
    script.write_text("soon pain\n")
    assert f"{script}:1: 'soon pain' is not `SECONDS WORDS`" in run_cli(
        "run", "--input", f"script:{script}", "--voice", "print", "--log-dir", str(tmp_path)).stderr


def test_routines_check_show_and_list(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(SMALL_ROUTINE)
    result = run_cli("routines", "check", str(good))
    assert result.returncode == 0 and "OK. Small routine: 2 moves, 4 reps in all." in result.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(SMALL_ROUTINE.replace("reps: 2", "reps: -2"))
    result = run_cli("routines", "check", str(broken))
    assert result.returncode == 2 and f"{broken}:11:" in result.stderr and "Fix:" in result.stderr
    # A command said on its own between pauses would be heard as one: checked, with a warning.
    risky = tmp_path / "risky.yaml"
    risky.write_text(SMALL_ROUTINE.replace("      - Then lower them.", "      - Then lower them. If it hurts, stop."))
    result = run_cli("routines", "check", str(risky))
    assert result.returncode == 0 and "OK." in result.stdout
    assert f"{risky}:10: 'Then lower them. If it hurts, stop.' says 'stop' on its own" in result.stderr
    assert "says" not in run_cli("routines", "check", str(good)).stderr
    shown = run_cli("routines", "show", "si-joint").stdout
    assert "== Bridge [bridge]" in shown and "hold  5 counts" in shown
    listed = run_cli("routines", "list").stdout
    assert "si-joint " in listed and "si-joint-floor" in listed
    missing = run_cli("routines", "show", "nope")
    assert missing.returncode == 2 and "Known routines: si-joint, si-joint-floor" in missing.stderr


def test_log_views_and_a_torn_log(unattended, tmp_path):
    _, logs = unattended
    path = next(logs.glob("*.jsonl"))
    torn = tmp_path / "logs"
    torn.mkdir()
    data = path.read_bytes()
    (torn / path.name).write_bytes(data[: len(data) * 2 // 3])
    result = run_cli("log", "--log-dir", str(torn), "show", "last", "--json")
    assert result.returncode == 0 and "cut off" in result.stderr
    shown = json.loads(result.stdout)
    assert shown["status"] == "incomplete" and shown["completed"] >= 5
    listed = run_cli("log", "--log-dir", str(torn), "list").stdout
    assert "incomplete" in listed and path.stem in listed
    csv_out = run_cli("log", "--log-dir", str(torn), "export", "--csv").stdout.splitlines()
    assert csv_out[0].startswith("session,routine,started") and len(csv_out) == 13
    assert run_cli("log", "--log-dir", str(torn), "show", "zzz").returncode == 2


def test_no_audio_devices_falls_back_to_keyboard_and_print(tmp_path):
    result = run_cli("run", "si-joint", "--log-dir", str(tmp_path), input_text="status\nstop\n")
    assert result.returncode == 0, result.stderr
    assert "type commands instead" in result.stderr and "printing what the guide says instead" in result.stderr
    assert "We are just starting. 12 moves to go." in result.stdout
    data = json.loads(run_cli("log", "--log-dir", str(tmp_path), "show", "last", "--json").stdout)
    assert data["status"] == "stopped"


def test_wav_voice_renders_speech_at_the_times_it_was_said(tmp_path):
    routine = tmp_path / "small.yaml"
    routine.write_text(SMALL_ROUTINE)
    script = tmp_path / "s.txt"
    script.write_text("# unattended\n")
    out = tmp_path / "voice.wav"
    result = run_cli("run", str(routine), "--input", f"script:{script}", "--voice", f"wav:{out}",
                     "--log-dir", str(tmp_path / "logs"))
    assert result.returncode == 0, result.stderr
    last = timestamp(result.stdout.splitlines()[-1])
    with wave.open(str(out)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert last < seconds < last + 6  # the file ends with the final sentence


def test_help_imports_nothing_heavy():
    result = run_cli("--help")
    assert result.returncode == 0 and "run" in result.stdout
    import subprocess
    import sys

    probe = subprocess.run([sys.executable, "-c", "import sys, voiceguide.cli as c; c.build_parser().format_help();"
                            "print(sorted(m for m in ('numpy', 'yaml', 'vosk', 'pocketsphinx', 'pyttsx3') if m in sys.modules))"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == "[]"


def test_devices_and_doctor_say_what_is_missing():
    devices = run_cli("devices")
    assert devices.returncode == 0 and "inputs: none (no audio input device found)" in devices.stdout
    doctor = run_cli("doctor")
    assert ("FIX audio input: no audio input device found; plug in a USB microphone or speakerphone and see "
            "`voiceguide devices`; until then a session uses typed commands") in doctor.stdout
    assert "OK  speech output: pyttsx3 renders speech" in doctor.stdout
    assert "OK  listening: listening with PocketSphinx" in doctor.stdout
    assert doctor.returncode == 1


def test_doctor_names_a_configured_device_that_matches_nothing(monkeypatch, tmp_path, capsys):
    import sys
    import types

    from voiceguide import cli

    def doctor(device: dict, config: str) -> str:
        """What the doctor says with `device` the only one plugged in; it must exit 1."""
        monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(
            query_devices=lambda: [device], check_output_settings=lambda **_settings: None))
        (tmp_path / "config.yaml").write_text(config)
        assert cli.main(["--config", str(tmp_path / "config.yaml"), "doctor"]) == 1
        return capsys.readouterr().out

    # A speakerphone is plugged in, but config.yaml still names the one used before. A session
    # would refuse to start, so the doctor must not call the audio fine.
    out = doctor({"name": "USB Speakerphone: Audio (hw:1,0)", "max_input_channels": 1, "max_output_channels": 2,
                  "default_samplerate": 48000.0}, "audio:\n  input_device: jabra\n  output_device: speakerphone\n")
    assert ("FIX audio input: no audio input device matches 'jabra' (audio.input_device in config.yaml). "
            "Devices: USB Speakerphone: Audio (hw:1,0); until then a session uses typed commands") in out
    assert "OK  audio output: USB Speakerphone: Audio (hw:1,0)" in out
    # Found, but a Bluetooth headset in its hands-free profile: 8 kHz, a telephone's band.
    out = doctor({"name": "Bluetooth Headset (hands-free)", "max_input_channels": 1, "max_output_channels": 1,
                  "default_samplerate": 8000.0}, "audio:\n  input_device: headset\n")
    assert ("FIX audio input: Bluetooth Headset (hands-free): telephone-band sound (8000 Hz audio, with nothing "
            "above 4000 Hz): commands are misheard far more often.") in out
    assert "OK  audio output: Bluetooth Headset (hands-free)" in out


def test_doctor_opens_the_devices_and_hears_the_microphone_as_a_session_would(monkeypatch, tmp_path, capsys):
    """A device can be listed and still not work: held by another program, muted at its button,
    or stuck. The doctor opens both and listens for a moment, and names what it finds."""
    import sys
    import time

    from voiceguide import cli

    class FakeSoundDevice:
        def __init__(self, sound: np.ndarray | None, opens: bool = True, plays: bool = True) -> None:
            self.sound, self.opens, self.plays = sound, opens, plays

        def query_devices(self) -> list[dict]:
            return [{"name": "USB Speakerphone: Audio (hw:1,0)", "max_input_channels": 2, "max_output_channels": 2,
                     "default_samplerate": 48000.0}]

        def check_output_settings(self, device=None, channels=None, samplerate=None) -> None:  # noqa: ANN001
            if not self.plays:
                raise OSError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")

        def InputStream(self, callback, samplerate, channels, blocksize, **_kwargs):  # noqa: ANN001, ANN201, N802
            if not self.opens:
                raise OSError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")
            sound = self.sound

            class Stream:
                def start(self) -> None:  # delivers its whole sound at once: the doctor only waits
                    if sound is not None:
                        for i in range(0, len(sound), blocksize):
                            callback(sound[i : i + blocksize].reshape(-1, channels), blocksize, None, None)

                def stop(self) -> None:
                    pass

                def close(self) -> None:
                    pass

            return Stream()

    def doctor(fake: FakeSoundDevice) -> str:
        monkeypatch.setitem(sys.modules, "sounddevice", fake)
        cli.main(["--config", str(tmp_path / "none.yaml"), "doctor"])
        return capsys.readouterr().out

    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    (tmp_path / "none.yaml").write_text("{}\n")
    rng = np.random.default_rng(0)
    hiss = rng.normal(0, 30, (72000, 2))
    # 1.5 s of a quiet room, with a DC offset of 2000 on both channels.
    out = doctor(FakeSoundDevice(np.round(hiss + 2000).astype(np.int16)))
    line = next(x for x in out.splitlines() if "audio input" in x)
    assert line.startswith("OK  audio input: USB Speakerphone: Audio (hw:1,0): 48000 Hz, 2 channel(s); the room at -")
    assert "a DC offset of 2000, which listening takes away" in line
    # Hiss of 30 in 32768 is -61 dBFS; two channels of it averaged, -64; the third of its 24 kHz
    # band that 16 kHz keeps, -69.
    assert -70 < float(line.split("the room at ")[1].split(" dBFS")[0]) < -68
    assert re.search(r"OK  audio output: USB Speakerphone: Audio \(hw:1,0\): opens \(\d+ Hz\)", out), out
    assert "hum" not in out
    # The same room through a microphone that buzzes: 50 Hz and its harmonics, the fundamental at -38 dBFS.
    t = np.arange(72000) / 48000
    buzz = sum(410 / k * np.sin(2 * np.pi * 50.05 * k * t + k) for k in range(1, 21))
    out = doctor(FakeSoundDevice(np.round(hiss + buzz[:, None]).astype(np.int16)))
    line = next(x for x in out.splitlines() if "audio input" in x)
    assert "mains hum at 50 Hz (20 lines), which listening takes away" in line, line
    assert -70 < float(line.split("the room at ")[1].split(" dBFS")[0]) < -66, line  # as quiet as without it
    out = doctor(FakeSoundDevice(np.zeros((72000, 2), np.int16)))
    assert "FIX audio input: USB Speakerphone: Audio (hw:1,0): sends nothing but digital silence: it is muted" in out
    out = doctor(FakeSoundDevice(None))
    assert "FIX audio input: USB Speakerphone: Audio (hw:1,0): opened, but sent no sound in 1.5 s" in out
    out = doctor(FakeSoundDevice(None, opens=False, plays=False))
    assert ("FIX audio input: USB Speakerphone: Audio (hw:1,0): listed, but it does not open (Error opening "
            "InputStream: Device unavailable [PaErrorCode -9985]). Another program may be using it") in out
    assert "FIX audio output: USB Speakerphone: Audio (hw:1,0): listed, but it does not open (" in out


def test_a_microphone_that_is_listed_but_will_not_open_is_named_with_what_to_do(monkeypatch, tmp_path, capsys):
    import sys
    import types

    from voiceguide import cli

    def busy(**_settings) -> None:
        raise OSError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(
        query_devices=lambda: [{"name": "USB Speakerphone: Audio (hw:1,0)", "max_input_channels": 1,
                                "max_output_channels": 0, "default_samplerate": 48000.0}],
        InputStream=busy))
    code = cli.main(["run", "si-joint", "--voice", "print", "--log-dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert code == 2
    assert ("voiceguide: cannot open the microphone 'USB Speakerphone: Audio (hw:1,0)' (Error opening InputStream: "
            "Device unavailable [PaErrorCode -9985]). Another program may be using it") in err
    assert "Or use --input keyboard." in err and "Traceback" not in err
