"""Session log events: one dataclass per event, a stable type string, to/from dict.

Each is one JSONL line. `t` is seconds since the session started on the session clock
(virtual for WAV and script input, real otherwise). The first line of every log is a
SessionHeader. Readers ignore keys they do not know, so later versions may add fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = ""
    t: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = round(value, 3) if isinstance(value, float) else value
        return out


@dataclass(frozen=True)
class SessionHeader(Event):
    """First line of a log: what ran, with which settings and program."""

    type: ClassVar[str] = "session"
    schema: int
    id: str
    routine: str
    routine_name: str
    started: str  # ISO 8601 wall-clock time with offset
    program_version: str
    config_digest: str
    input: str = ""
    voice: str = ""
    exercises: tuple[dict[str, str], ...] = ()  # {id, name} in routine order


@dataclass(frozen=True)
class ExerciseStarted(Event):
    type: ClassVar[str] = "exercise_start"
    exercise: str
    name: str
    reps_target: int
    sides: str


@dataclass(frozen=True)
class RepDone(Event):
    type: ClassVar[str] = "rep_done"
    exercise: str
    side: str
    rep: int  # within the side, 1-based
    reps_done: int  # over the whole exercise so far


@dataclass(frozen=True)
class ExerciseEnded(Event):
    """status: completed, skipped, pain or stopped."""

    type: ClassVar[str] = "exercise_end"
    exercise: str
    status: str
    reps_done: int
    side: str = "both"


@dataclass(frozen=True)
class Pain(Event):
    """Where pain was reported: the rep in progress, and seconds into its hold (if holding)."""

    type: ClassVar[str] = "pain"
    exercise: str | None
    side: str
    rep: int | None
    second: float | None
    phase: str


@dataclass(frozen=True)
class PainRating(Event):
    type: ClassVar[str] = "pain_rating"
    exercise: str | None
    level: int  # 0-10


@dataclass(frozen=True)
class CommandHeard(Event):
    """Every command, obeyed or not, with the phase it arrived in."""

    type: ClassVar[str] = "command"
    command: str
    text: str
    phase: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Paused(Event):
    type: ClassVar[str] = "paused"


@dataclass(frozen=True)
class Resumed(Event):
    type: ClassVar[str] = "resumed"


@dataclass(frozen=True)
class BeatChanged(Event):
    type: ClassVar[str] = "beat"
    seconds: float


@dataclass(frozen=True)
class Notice(Event):
    """Something about the equipment, not the person: an input overflow, a device lost."""

    type: ClassVar[str] = "notice"
    message: str


@dataclass(frozen=True)
class SessionEnded(Event):
    """status: completed, stopped or incomplete (input ended while the guide was waiting)."""

    type: ClassVar[str] = "session_end"
    status: str
    summary: str
    reason: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (SessionHeader, ExerciseStarted, RepDone, ExerciseEnded, Pain, PainRating,
                CommandHeard, Paused, Resumed, BeatChanged, Notice, SessionEnded)
}


def from_dict(data: dict[str, Any]) -> Event | None:
    """Rebuild an event; None for a type this version does not know."""
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in data.items() if k in names}
    if "exercises" in kwargs:
        kwargs["exercises"] = tuple(kwargs["exercises"])
    return cls(**kwargs)
