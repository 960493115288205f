"""Session logs on disk: durable writes, torn and garbled lines, a full disk."""

from __future__ import annotations

import json

import pytest

from voiceguide import events as ev
from voiceguide.journal import Journal, read_log, summarise


def header(**kw) -> ev.SessionHeader:
    fields = dict(schema=ev.SCHEMA_VERSION, id="s1", routine="small", routine_name="Small", started="2026-11-27T08:00:00+00:00",
                  program_version="0", config_digest="abc", exercises=({"id": "lift", "name": "Lift"}, {"id": "twist", "name": "Twist"}))
    fields.update(kw)
    return ev.SessionHeader(0.0, **fields)


def write_session(path, events):
    journal = Journal(path)
    journal.write(header())
    for event in events:
        journal.write(event)
    journal.close()


EVENTS = [
    ev.ExerciseStarted(1.0, "lift", "Lift", 10, "one"),
    ev.RepDone(9.0, "lift", "both", 1, 1),
    ev.RepDone(17.0, "lift", "both", 2, 2),
    ev.Pain(20.5, "lift", "both", 3, 2.5, "counting"),
    ev.ExerciseEnded(20.5, "lift", "pain", 2),
    ev.PainRating(24.0, "lift", 6),
]


def test_each_event_is_on_disk_as_soon_as_it_is_written(tmp_path):
    path = tmp_path / "s.jsonl"
    journal = Journal(path)
    journal.write(header())
    journal.write(EVENTS[0])
    lines = path.read_text().splitlines()  # read before close
    assert [json.loads(line)["type"] for line in lines] == ["session", "exercise_start"]
    assert json.loads(lines[0])["schema"] == ev.SCHEMA_VERSION
    journal.close()


def test_summary_has_the_contract_shape(tmp_path):
    path = tmp_path / "s.jsonl"
    write_session(path, EVENTS)
    data = summarise(read_log(path))
    assert data["status"] == "incomplete" and data["routine"] == "small"
    lift, twist = data["exercises"]
    assert lift == {"id": "lift", "name": "Lift", "status": "pain", "side": "both", "reps_done": 2,
                    "reps_target": 10, "pain_level": 6, "pain_at": {"rep": 3, "second": 2.5},
                    "started": 1.0, "ended": 20.5, "attempts": 1}
    assert twist["status"] == "not_reached"


def test_torn_last_line_keeps_everything_before_it(tmp_path):
    path = tmp_path / "s.jsonl"
    write_session(path, EVENTS)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 9])  # power lost mid-line
    log = read_log(path)
    assert len(log.events) == len(EVENTS) - 1
    assert log.warnings == [f"{path}:7: line is cut off (the log was interrupted while writing); skipped it and kept the rest."]
    assert summarise(log)["exercises"][0]["status"] == "pain"


def test_garbled_middle_line_is_skipped_and_named(tmp_path):
    path = tmp_path / "s.jsonl"
    write_session(path, EVENTS)
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = "\x00\x00garbage\n"
    path.write_text("".join(lines))
    log = read_log(path)
    assert len(log.events) == len(EVENTS) - 1
    assert log.warnings == [f"{path}:3: line is garbled; skipped it and kept the rest."]


def test_events_from_a_newer_version_are_ignored_not_fatal(tmp_path):
    path = tmp_path / "s.jsonl"
    write_session(path, EVENTS)
    with open(path, "a") as f:
        f.write(json.dumps({"type": "heart_rate", "t": 30.0, "bpm": 80}) + "\n")
    log = read_log(path)
    assert log.warnings == [] and len(log.events) == len(EVENTS)


def test_full_disk_keeps_events_and_says_so(tmp_path, capsys):
    path = tmp_path / "s.jsonl"
    journal = Journal(path)
    journal.write(header())
    journal._file.close()
    journal._file = open("/dev/full", "w")  # noqa: SIM115 - the kernel answers every write with ENOSPC
    journal.write(EVENTS[0])
    journal.write(EVENTS[1])
    assert len(journal.backlog) == 2
    journal.close()
    err = capsys.readouterr().err
    assert f"cannot write the session log {path}" in err and "No space left on device" in err
    dumped = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [d["type"] for d in dumped] == ["exercise_start", "rep_done"]


def test_a_log_is_never_overwritten(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text("{}\n")
    with pytest.raises(OSError, match="cannot create the session log"):
        Journal(path)


def test_a_log_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "logs").write_text("not a folder")
    with pytest.raises(OSError, match=f"{tmp_path / 'logs'} is a file, not a folder"):
        Journal(tmp_path / "logs" / "more" / "s.jsonl")
