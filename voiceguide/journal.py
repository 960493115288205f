"""Append-only JSONL session logs: write durably, read forgivingly, summarise one session.

Writing: every event is flushed and fsync'ed as it happens, so pulling the plug loses at most
the line in flight. If the disk refuses a line (full, gone read-only) the line is kept in
memory, retried with each later event, and printed to stderr at close if it still cannot land.
Reading: a torn or garbled line is skipped with a warning naming the file and line; everything
before and after it is kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from voiceguide import events as ev


class Journal:
    """Writes one session's log. Call write() for each event, close() at the end."""

    def __init__(self, path: Path, sync: bool = True) -> None:
        self.path = path
        self.sync = sync  # False only for generated histories, which no power cut can hurt
        self.backlog: list[str] = []
        self.warned = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "x", encoding="utf-8")  # noqa: SIM115 - held for the session
        except OSError as exc:
            clash = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
            why = f"{clash} is a file, not a folder" if clash else exc.strerror or str(exc)
            raise OSError(f"cannot create the session log {path}: {why}") from exc

    def write(self, event: ev.Event) -> None:
        self.backlog.append(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        self._drain()

    def _drain(self) -> None:
        while self.backlog:
            try:
                self._file.write(self.backlog[0])
                self._file.flush()
                if self.sync:
                    os.fsync(self._file.fileno())
            except OSError as exc:
                if not self.warned:
                    print(f"voiceguide: cannot write the session log {self.path} ({exc.strerror or exc});"
                          " keeping events in memory and retrying.", file=sys.stderr)
                    self.warned = True
                return
            self.backlog.pop(0)

    def close(self) -> None:
        self._drain()
        if self.backlog:
            print(f"voiceguide: {len(self.backlog)} log events could not be written to {self.path};"
                  " here they are, one JSON object per line:", file=sys.stderr)
            for line in self.backlog:
                sys.stderr.write(line)
        with contextlib.suppress(OSError):  # a failed close must not hide the backlog printed above
            self._file.close()


def new_log_path(log_dir: Path, routine_id: str, started: datetime) -> tuple[str, Path]:
    """A fresh session id and its file: `YYYYmmdd-HHMMSS-ROUTINE` (suffixed if taken)."""
    base = f"{started.strftime('%Y%m%d-%H%M%S')}-{routine_id}"
    ident, n = base, 1
    while (log_dir / f"{ident}.jsonl").exists():
        n += 1
        ident = f"{base}-{n}"
    return ident, log_dir / f"{ident}.jsonl"


@dataclass
class SessionLog:
    """One log file as read back."""

    path: Path
    header: ev.SessionHeader | None = None
    events: list[ev.Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.header.id if self.header else self.path.stem


def read_log(path: Path) -> SessionLog:
    log = SessionLog(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        log.warnings.append(f"{path}: cannot read it ({exc.strerror or exc}).")
        return log
    lines = raw.split(b"\n")
    torn_tail = not raw.endswith(b"\n") and bool(lines[-1])
    if not lines[-1]:
        lines.pop()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line.decode("utf-8"))
            event = ev.from_dict(data) if isinstance(data, dict) else None
            if isinstance(data, dict) and event is None:
                continue  # a type from a newer version: not an error
            if event is None:
                raise ValueError("not an object")
        except (ValueError, TypeError, UnicodeDecodeError):
            last = number == len(lines)
            cause = "cut off (the log was interrupted while writing)" if last and torn_tail else "garbled"
            log.warnings.append(f"{path}:{number}: line is {cause}; skipped it and kept the rest.")
            continue
        if isinstance(event, ev.SessionHeader):
            log.header = event
        else:
            log.events.append(event)
    if log.header is None:
        log.warnings.append(f"{path}: no session header line; is this a voiceguide log?")
    return log


def list_logs(log_dir: Path) -> list[Path]:
    if not log_dir.is_dir():
        return []
    return sorted(log_dir.glob("*.jsonl"))


def summarise(log: SessionLog) -> dict[str, Any]:
    """The `log show --json` shape (see DESIGN.md): the session and one entry per exercise."""
    header = log.header
    entries: dict[str, dict[str, Any]] = {}
    for item in header.exercises if header else ():
        entries[item["id"]] = _entry(item["id"], item.get("name", item["id"]))
    status, summary, ended_at = "incomplete", "", None
    pains: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []  # what happened to the equipment: a microphone lost, muted, telephone-band
    commands = 0
    for event in log.events:
        if isinstance(event, ev.ExerciseStarted):
            entry = entries.setdefault(event.exercise, _entry(event.exercise, event.name))
            entry["attempts"] += 1
            entry["status"] = "stopped"  # until an end line says otherwise
            entry["reps_target"] = event.reps_target
            entry["reps_done"] = 0
            if entry["started"] is None:
                entry["started"] = event.t
        elif isinstance(event, ev.RepDone) and event.exercise in entries:
            entries[event.exercise]["reps_done"] = event.reps_done
        elif isinstance(event, ev.ExerciseEnded) and event.exercise in entries:
            entry = entries[event.exercise]
            entry.update(reps_done=event.reps_done, ended=event.t, side=event.side)
            if event.status != "restarted" and not entry["pain_at"]:
                entry["status"] = event.status
        elif isinstance(event, ev.Pain):
            pains.append({"exercise": event.exercise, "t": event.t, "rep": event.rep, "second": event.second,
                          "level": None})
            if event.exercise in entries:
                entry = entries[event.exercise]
                entry["pain_at"] = {"rep": event.rep, "second": event.second}
                entry["side"] = event.side
                if entry["status"] == "stopped":  # pain before the exercise had ended
                    entry["status"] = "pain"
        elif isinstance(event, ev.PainRating):
            if pains and pains[-1]["exercise"] == event.exercise:  # a rating answers the pain before it
                pains[-1]["level"] = event.level
            if event.exercise in entries:
                entries[event.exercise]["pain_level"] = event.level
        elif isinstance(event, ev.CommandHeard):
            commands += 1
            if event.text.startswith("(") and event.text.endswith(")"):  # said by the equipment, not the person
                notes.append({"t": event.t, "message": event.text[1:-1]})
        elif isinstance(event, ev.Notice):
            notes.append({"t": event.t, "message": event.message})
        elif isinstance(event, ev.SessionEnded):
            status, summary, ended_at = event.status, event.summary, event.t
    exercises = list(entries.values())
    if status == "incomplete" and not any(isinstance(e, ev.SessionEnded) for e in log.events):
        summary = "The log ends before the session did."
    return {
        "id": log.id,
        "routine": header.routine if header else None,
        "routine_name": header.routine_name if header else None,
        "status": status,
        "started": header.started if header else None,
        "duration": ended_at if ended_at is not None else (log.events[-1].t if log.events else 0.0),
        "schema": header.schema if header else None,
        "summary": summary,
        "completed": sum(1 for e in exercises if e["status"] == "completed"),
        "total": len(exercises),
        "commands": commands,
        "pains": pains,
        "notes": notes,
        "exercises": exercises,
        "warnings": log.warnings,
    }


def _entry(ident: str, name: str) -> dict[str, Any]:
    return {"id": ident, "name": name, "status": "not_reached", "side": "both", "reps_done": 0,
            "reps_target": 0, "pain_level": None, "pain_at": None, "started": None, "ended": None,
            "attempts": 0}
