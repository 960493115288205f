"""Reviewing many sessions: generated histories, real log files, the summary, warnings, report."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import run_cli

from voiceguide.history import load_sessions, review
from voiceguide.routine import find_routine, load_routine
from voiceguide.synthetic import pattern, write_history

ROUTINE = load_routine(find_routine("si-joint"))
TODAY = date.today()


def history(tmp_path: Path, name: str, days: int) -> Path:
    folder = tmp_path / name
    write_history(folder, ROUTINE, TODAY - timedelta(days=days - 1), days, pattern(name, days))
    return folder


def reviewed(folder: Path, weeks: int = 4):
    sessions, notes = load_sessions(folder)
    return review(sessions, 7, weeks, today=TODAY, notes=notes)


def window(days: int, weeks: int = 4) -> list[int]:
    """Day indexes of a `days`-long history (ending today) that fall in the last `weeks` weeks."""
    monday = TODAY - timedelta(days=TODAY.weekday()) - timedelta(weeks=weeks - 1)
    first = TODAY - timedelta(days=days - 1)
    return [n for n in range(days) if first + timedelta(days=n) >= monday]


def bridge_pains(name: str, days: int) -> int:
    plan = pattern(name, days)
    return sum(1 for n in window(days) if isinstance((plan(n) or {}).get("bridge"), tuple))


def test_adherent_history(tmp_path):
    r = reviewed(history(tmp_path, "adherent", 30))
    assert r.streak_days == 30 and r.adherence == 1.0 and r.warnings == []
    assert r.sessions == len(window(30))
    assert all(m.completed == r.sessions and m.pain == 0 for m in r.moves)
    assert [w["sessions"] for w in r.weeks][:3] == [7, 7, 7]


def test_lapsing_history(tmp_path):
    r = reviewed(history(tmp_path, "lapsing", 35))
    # Daily for two weeks, then one session a week: 3 of the last 21 days.
    assert [w["sessions"] for w in r.weeks][-3:] in ([1, 1, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1])
    assert r.adherence < 0.5
    assert r.streak_days <= 1


def test_worsening_history_warns_with_evidence(tmp_path):
    r = reviewed(history(tmp_path, "worsening", 30))
    kinds = {w.kind: w for w in r.warnings}
    assert set(kinds) == {"pain_every_time", "no_improvement"}
    assert kinds["pain_every_time"].exercise == "bridge"
    assert "bridge in 3 of your last 5 sessions" in kinds["pain_every_time"].text
    assert "not a diagnosis" not in kinds["no_improvement"].text and "healthcare provider" in kinds["no_improvement"].text
    bridge = next(m for m in r.moves if m.id == "bridge")
    assert bridge.pain == bridge_pains("worsening", 30) and bridge.first_week_pain < bridge.last_week_pain


def test_improving_history_has_no_warning(tmp_path):
    r = reviewed(history(tmp_path, "improving", 30))
    bridge = next(m for m in r.moves if m.id == "bridge")
    assert bridge.pain == bridge_pains("improving", 30) and bridge.first_week_pain > bridge.last_week_pain
    assert r.warnings == []


def test_new_pain_on_a_pain_free_move(tmp_path):
    r = reviewed(history(tmp_path, "new_pain", 20))
    assert [(w.kind, w.exercise) for w in r.warnings] == [("new_pain", "cat-cow")]
    assert "after 19 sessions without pain" in r.warnings[0].text


def test_torn_and_foreign_files_are_named_and_skipped(tmp_path):
    folder = history(tmp_path, "adherent", 10)
    (folder / "notes.jsonl").write_text('{"hello": "world"}\n')
    last = sorted(folder.glob("2*.jsonl"))[-1]
    data = last.read_bytes()
    last.write_bytes(data[:-20])
    sessions, notes = load_sessions(folder)
    assert len(sessions) == 10
    assert any(str(folder / "notes.jsonl") in n and "not a voiceguide session log" in n for n in notes)
    assert any(str(last) in n and "cut off" in n for n in notes)


def test_old_schema_logs_still_load(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    # A schema 1 log written by hand: the minimum an old version wrote, plus a key from a newer one.
    lines = [
        {"type": "session", "t": 0, "schema": 1, "id": "old", "routine": "si-joint", "routine_name": "SI joint program",
         "started": f"{TODAY.isoformat()}T07:00:00+00:00", "program_version": "0.0.1", "config_digest": "x",
         "exercises": [{"id": "bridge", "name": "Bridge"}]},
        {"type": "exercise_start", "t": 1, "exercise": "bridge", "name": "Bridge", "reps_target": 10, "sides": "one"},
        {"type": "pain", "t": 9, "exercise": "bridge", "side": "both", "rep": 2, "second": 1.0, "phase": "counting",
         "heart_rate": 90},
        {"type": "exercise_end", "t": 9, "exercise": "bridge", "status": "pain", "reps_done": 1},
        {"type": "session_end", "t": 30, "status": "completed", "summary": "ok"},
    ]
    (folder / "old.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    sessions, notes = load_sessions(folder)
    assert notes == [] and sessions[0]["exercises"][0]["pain_at"] == {"rep": 2, "second": 1.0}


def test_summary_cli_text_and_json_agree(tmp_path):
    folder = history(tmp_path, "worsening", 24)
    text = run_cli("log", "--log-dir", str(folder), "summary", "--weeks", "2")
    assert text.returncode == 0, text.stderr
    data = json.loads(run_cli("log", "--log-dir", str(folder), "summary", "--weeks", "2", "--json").stdout)
    assert f"Sessions: {data['sessions']} in the last 2 weeks" in text.stdout
    assert "Warning signs:" in text.stdout and len(data["warnings"]) == 2
    said = run_cli("log", "--log-dir", str(folder), "summary", "--say")
    assert "Pain stopped the bridge" in said.stdout  # spoken (printed: no loudspeaker here)


def test_end_of_session_sentence_mentions_a_new_warning(tmp_path):
    folder = history(tmp_path, "adherent", 8)
    (folder / ".summaries.json").unlink(missing_ok=True)
    lines = [line for line in run_cli("routines", "show", "si-joint").stdout.splitlines()]
    assert lines  # the routine exists; now run a session with pain on the bridge's first rep
    script = tmp_path / "pain.txt"
    probe = run_cli("run", "si-joint", "--input", f"script:{tmp_path / 'none.txt'}", "--voice", "print",
                    "--log-dir", str(tmp_path / "probe")) if (tmp_path / "none.txt").write_text("#\n") else None
    rep1 = next(line for line in probe.stdout.splitlines() if "Rep 1 of 10. Squeeze and lift." in line)
    minutes, seconds = rep1[1:9].split(":")
    at = int(minutes) * 60 + float(seconds) + 3
    script.write_text(f"{at:.1f} pain\n{at + 3:.1f} 4\n{at + 10:.1f} next\n")
    result = run_cli("run", "si-joint", "--input", f"script:{script}", "--voice", "print", "--log-dir", str(folder))
    assert result.returncode == 0, result.stderr
    assert "caused pain in your latest session after 8 sessions without pain" in result.stdout.splitlines()[-1]


def test_two_years_of_daily_logs(tmp_path):
    folder = history(tmp_path, "worsening", 730)
    result = run_cli("log", "--log-dir", str(folder), "summary", "--json")
    data = json.loads(result.stdout)
    assert data["streak_days"] == 730 and data["first"].startswith((TODAY - timedelta(days=729)).isoformat())


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None or shutil.which("tesseract") is None,
                    reason="needs Debian's chromium and tesseract-ocr (.ci/run installs them)")
def test_report_renders_in_chromium_with_its_charts(tmp_path):
    from voiceguide.speech.audio import np  # numpy, already a dependency

    folder = history(tmp_path, "worsening", 30)
    out = tmp_path / "report.html"
    result = run_cli("report", "--log-dir", str(folder), "--out", str(out), "--weeks", "5", "--csv", str(tmp_path / "csv"))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html  # self-contained
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", "--window-size=1000,2600",
                    f"--screenshot={shot}", out.as_uri()], check=True, capture_output=True, timeout=120)
    words = subprocess.run(["tesseract", str(shot), "-", "--psm", "3"], capture_output=True, text=True).stdout
    data = json.loads(run_cli("log", "--log-dir", str(folder), "summary", "--weeks", "5", "--json").stdout)
    for visible in ("Exercise session report", "Warning signs", "Sessions per week", "Pain ratings per exercise",
                    f"{round(data['adherence'] * 100)}%", "Pain stopped the bridge"):
        assert visible in words, f"{visible!r} not visible in the screenshot"
    pixels = _png_pixels(shot)
    # The bars of sessions per week (#1f77b4) and the bridge's pain line (first series colour) are drawn.
    assert np.count_nonzero(np.all(pixels == (0x1F, 0x77, 0xB4), axis=2)) > 2000
    assert (tmp_path / "csv" / "sessions.csv").read_text().count("\n") == 30 * 12 + 1


def _png_pixels(path: Path):
    from PIL import Image

    from voiceguide.speech.audio import np

    return np.asarray(Image.open(path).convert("RGB"))


def test_a_session_shown_as_text_lines_its_columns_up_whatever_the_names():
    from voiceguide.review import session_text

    def move(name: str, status: str) -> dict:
        return {"name": name, "status": status, "reps_done": 0, "reps_target": 3, "pain_at": None, "side": "both",
                "pain_level": None}

    shown = session_text({"id": "x", "routine_name": "Mine", "routine": "mine", "started": "2026-11-28T08:00:00+00:00",
                          "duration": 60.0, "status": "stopped", "summary": "",
                          "exercises": [move("Bridge", "stopped"), move("Side lying quadriceps stretch, both legs", "not_reached")]})
    rows = shown.splitlines()[-2:]
    assert rows[0].index("stopped") == rows[1].index("not_reached")
    assert rows[1].index("not_reached") > rows[1].index("both legs") + len("both legs")


def test_the_report_names_what_happened_to_the_equipment_in_a_session(tmp_path):
    folder = history(tmp_path, "adherent", 3)
    run_cli("report", "--log-dir", str(folder), "--out", str(tmp_path / "before.html"))  # caches the summaries
    last = sorted(folder.glob("*.jsonl"))[-1]
    lines = last.read_text().splitlines()
    happened = [{"type": "command", "t": 30.0, "command": "pause", "text": "(USB mic lost)", "phase": "counting"},
                {"type": "command", "t": 40.0, "command": "resume", "text": "(USB mic back)", "phase": "paused"},
                {"type": "notice", "t": 41.0, "message": "USB mic: telephone-band sound (8000 Hz audio, with nothing "
                                                         "above 4000 Hz): commands are misheard far more often."},
                {"type": "notice", "t": 50.0, "message": "ignored 'next': the guide itself was saying it"}]
    last.write_text("\n".join(lines[:-1] + [json.dumps(x) for x in happened] + lines[-1:]) + "\n")
    result = run_cli("report", "--log-dir", str(folder), "--out", str(tmp_path / "report.html"))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "report.html").read_text()
    assert html.count("USB mic lost; USB mic back; telephone-band sound</td>") == 1
    assert "the guide itself" not in html
