"""Looking back over many sessions: adherence, streaks, per-move results, pain trends, and the
warning signs from the program's "when to see a healthcare provider" list.

Works on the per-session summaries of journal.summarise(); never a diagnosis: each warning
says what the logs show and suggests talking to a provider.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any

from voiceguide.journal import list_logs, read_log, summarise

CACHE_NAME = ".summaries.json"  # per-file summaries, keyed by size and mtime, so reviews stay fast
SUMMARY_SHAPE = 2  # in the cache key: a summary cached before `notes` were in it is made again
RECENT = 5  # sessions that count as "recent" for a move
IMPROVEMENT_DAYS = 21  # the program expects improvement within about three weeks
ADVICE = "Consider talking to your healthcare provider or physical therapist."


@dataclass
class Sign:
    kind: str  # pain_every_time, no_improvement, new_pain
    exercise: str | None
    text: str  # what the logs show, in a sentence, plus the advice


@dataclass
class MoveStats:
    id: str
    name: str
    sessions: int = 0  # sessions in which the move was reached
    completed: int = 0
    skipped: int = 0
    pain: int = 0
    stopped: int = 0
    ratings: list[tuple[str, int]] = field(default_factory=list)  # (ISO date, 0-10)
    first_week_pain: float | None = None
    last_week_pain: float | None = None


@dataclass
class Review:
    weeks: list[dict[str, Any]]  # {"week": "2026-W47", "start": date, "sessions": n, "plan": n}
    sessions: int
    adherence: float  # sessions done / planned, over the weeks shown
    streak_days: int
    total_minutes: float
    moves: list[MoveStats]
    warnings: list[Sign]
    first: str | None
    last: str | None
    skipped_files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_sessions(log_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Summaries of every log, oldest first, and warnings naming files that were skipped or torn."""
    cache_path = log_dir / CACHE_NAME
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    fresh: dict[str, Any] = {}
    sessions, notes = [], []
    for path in list_logs(log_dir):
        stat = path.stat()
        key = f"{SUMMARY_SHAPE}:{stat.st_size}:{stat.st_mtime_ns}"
        entry = cache.get(path.name)
        if not entry or entry.get("key") != key:
            log = read_log(path)
            entry = {"key": key, "summary": summarise(log) if log.header else None, "warnings": log.warnings}
        fresh[path.name] = entry
        notes += entry["warnings"]
        if entry["summary"] is None:
            notes.append(f"{path}: skipped, it is not a voiceguide session log.")
            continue
        sessions.append(entry["summary"])
    if fresh != cache:
        try:
            tmp = cache_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(fresh))
            os.replace(tmp, cache_path)
        except OSError:
            pass  # a read-only log folder still gets its review, only slower next time
    sessions.sort(key=lambda s: s["started"] or "")
    return sessions, notes


def _day(session: dict[str, Any]) -> date:
    return datetime.fromisoformat(session["started"]).date()


def review(sessions: list[dict[str, Any]], per_week: int = 7, weeks: int = 4, today: date | None = None,
           routine: str | None = None, notes: list[str] | None = None) -> Review:
    if routine:
        sessions = [s for s in sessions if s["routine"] == routine]
    today = today or date.today()
    monday = today - timedelta(days=today.weekday())
    week_rows = []
    for back in range(weeks - 1, -1, -1):
        start = monday - timedelta(weeks=back)
        count = sum(1 for s in sessions if start <= _day(s) < start + timedelta(days=7))
        iso = start.isocalendar()
        week_rows.append({"week": f"{iso[0]}-W{iso[1]:02d}", "start": start.isoformat(), "sessions": count,
                          "plan": per_week})
    # The current week is still running: plan only the days so far.
    days_so_far = (today - monday).days + 1
    planned = per_week * (weeks - 1) + min(per_week, round(per_week * days_so_far / 7)) or 1
    shown_from = monday - timedelta(weeks=weeks - 1)
    in_window = [s for s in sessions if shown_from <= _day(s) <= today]
    days = {_day(s) for s in sessions}
    streak, day = 0, today if today in days else today - timedelta(days=1)
    while day in days:
        streak, day = streak + 1, day - timedelta(days=1)
    moves = _moves(in_window)  # the weeks asked for; warning signs look at the whole history
    return Review(
        weeks=week_rows,
        sessions=len(in_window),
        adherence=round(len(in_window) / planned, 3),
        streak_days=streak,
        total_minutes=round(sum(s["duration"] or 0 for s in in_window) / 60, 1),
        moves=list(moves.values()),
        warnings=warnings(sessions, _moves(sessions)),
        first=sessions[0]["started"] if sessions else None,
        last=sessions[-1]["started"] if sessions else None,
        skipped_files=notes or [],
    )


def _moves(sessions: list[dict[str, Any]]) -> dict[str, MoveStats]:
    moves: dict[str, MoveStats] = {}
    for s in sessions:
        for e in s["exercises"]:
            if e["status"] == "not_reached":
                continue
            m = moves.setdefault(e["id"], MoveStats(e["id"], e["name"]))
            m.sessions += 1
            if e["status"] in ("completed", "skipped", "pain", "stopped"):
                setattr(m, e["status"], getattr(m, e["status"]) + 1)
            if e["pain_level"] is not None:
                m.ratings.append((_day(s).isoformat(), e["pain_level"]))
    for m in moves.values():
        if m.ratings:
            first_day = date.fromisoformat(m.ratings[0][0])
            last_day = date.fromisoformat(m.ratings[-1][0])
            m.first_week_pain = round(mean(r for d, r in m.ratings if date.fromisoformat(d) < first_day + timedelta(7)), 1)
            m.last_week_pain = round(mean(r for d, r in m.ratings if date.fromisoformat(d) > last_day - timedelta(7)), 1)
    return moves


def warnings(sessions: list[dict[str, Any]], moves: dict[str, MoveStats]) -> list[Sign]:
    found: list[Sign] = []
    for move in moves.values():
        history = [e for s in sessions for e in s["exercises"] if e["id"] == move.id and e["status"] != "not_reached"]
        recent = history[-RECENT:]
        painful = sum(1 for e in recent if e["pain_at"])
        if len(recent) >= 3 and painful * 2 > len(recent):
            found.append(Sign("pain_every_time", move.id,
                                 f"Pain stopped the {move.name.lower()} in {painful} of your last {len(recent)} sessions "
                                 f"with it: you may not be able to do it without pain. {ADVICE}"))
        elif len(history) >= 4 and history[-1]["pain_at"] and not any(e["pain_at"] for e in history[:-1]):
            found.append(Sign("new_pain", move.id,
                                 f"The {move.name.lower()} caused pain in your latest session after "
                                 f"{len(history) - 1} sessions without pain. New pain is worth mentioning. {ADVICE}"))
    found += _no_improvement(sessions)
    return found


def _no_improvement(sessions: list[dict[str, Any]]) -> list[Sign]:
    """Ratings in the last week no lower than in the first, after three weeks of regular sessions."""
    rated = [(_day(s), e["pain_level"]) for s in sessions for e in s["exercises"] if e["pain_level"] is not None]
    if not rated or not sessions:
        return []
    first_day, last_day = _day(sessions[0]), _day(sessions[-1])
    span = (last_day - first_day).days
    regular = len({_day(s) for s in sessions}) >= span * 0.5
    if span < IMPROVEMENT_DAYS or not regular:
        return []
    first = [r for d, r in rated if d < first_day + timedelta(7)]
    last = [r for d, r in rated if d > last_day - timedelta(7)]
    if not first or not last or mean(last) < mean(first):
        return []
    return [Sign("no_improvement", None,
                    f"After {span // 7} weeks of regular sessions your pain ratings have not dropped "
                    f"(first week {mean(first):.1f}, last week {mean(last):.1f} out of 10). "
                    f"The program expects improvement within about three weeks. {ADVICE}")]


def spoken(r: Review) -> str:
    """A short review to be read aloud."""
    parts = [f"In the last {len(r.weeks)} weeks you did {r.sessions} sessions, "
             f"{round(r.adherence * 100)} percent of your plan."]
    if r.streak_days:
        parts.append(f"Your current streak is {r.streak_days} day{'s' if r.streak_days != 1 else ''}.")
    painful = sorted((m for m in r.moves if m.pain), key=lambda m: -m.pain)[:2]
    for m in painful:
        parts.append(f"The {m.name.lower()} was stopped for pain {m.pain} time{'s' if m.pain != 1 else ''}.")
    parts += [w.text for w in r.warnings]
    return " ".join(parts)


def advice_for(past: list[dict[str, Any]]) -> Callable[[list[dict[str, Any]]], str | None]:
    """For the end of a session: the first warning sign this session adds to the history."""
    before = {(w.kind, w.exercise) for w in warnings(past, _moves(past))}

    def advise(results: list[dict[str, Any]]) -> str | None:
        now = {"started": datetime.now().astimezone().isoformat(), "routine": None, "duration": 0, "exercises": results}
        sessions = [*past, now]
        for sign in warnings(sessions, _moves(sessions)):
            if (sign.kind, sign.exercise) not in before:
                return sign.text
        return None

    return advise
