"""Synthetic session histories (real log files) for tests, benchmarks and demonstrations.

A history is a list of days; each day either has no session or says, per exercise, what
happened: "completed", "skipped", or ("pain", rep, level).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from voiceguide import __version__
from voiceguide import events as ev
from voiceguide.journal import Journal
from voiceguide.routine import Routine

Outcome = str | tuple[str, int, int | None]
DayPlan = dict[str, Outcome] | None


def write_session(log_dir: Path, routine: Routine, when: datetime, plan: dict[str, Outcome], ident: str) -> Path:
    path = log_dir / f"{ident}.jsonl"
    journal = Journal(path, sync=False)
    journal.write(ev.SessionHeader(0.0, ev.SCHEMA_VERSION, ident, routine.id, routine.name,
                                   when.isoformat(timespec="seconds"), __version__, "synthetic", "script", "print",
                                   tuple({"id": e.id, "name": e.name} for e in routine.exercises)))
    t = 10.0
    for exercise in routine.exercises:
        outcome = plan.get(exercise.id, "completed")
        journal.write(ev.ExerciseStarted(t, exercise.id, exercise.name, exercise.reps_target, exercise.sides.value))
        t += 20.0
        if outcome == "skipped":
            journal.write(ev.ExerciseEnded(t, exercise.id, "skipped", 0))
            continue
        pain_rep = outcome[1] if isinstance(outcome, tuple) else None
        done = 0
        for rep in range(1, exercise.reps_target + 1):
            if pain_rep == rep:
                break
            t += 8.0
            done += 1
            journal.write(ev.RepDone(t, exercise.id, "both", rep, done))
        if isinstance(outcome, tuple):
            t += 2.5
            journal.write(ev.Pain(t, exercise.id, "both", pain_rep, 2.5, "counting"))
            journal.write(ev.ExerciseEnded(t, exercise.id, "pain", done))
            if outcome[2] is not None:
                journal.write(ev.PainRating(t + 4.0, exercise.id, outcome[2]))
            t += 30.0
        else:
            journal.write(ev.ExerciseEnded(t, exercise.id, "completed", done))
        t += 15.0
    completed = sum(1 for o in plan.values() if o == "completed")
    journal.write(ev.SessionEnded(t, "completed", f"You finished {completed} moves."))
    journal.close()
    return path


def write_history(log_dir: Path, routine: Routine, first_day: date, days: int,
                  plan_for: Callable[[int], DayPlan], hour: int = 8) -> list[Path]:
    paths = []
    for n in range(days):
        plan = plan_for(n)
        if plan is None:
            continue
        day = first_day + timedelta(days=n)
        when = datetime.combine(day, time(hour, 0), tzinfo=timezone.utc)
        paths.append(write_session(log_dir, routine, when, plan, f"{day:%Y%m%d}-080000-{routine.id}"))
    return paths


def pattern(name: str, days: int) -> Callable[[int], DayPlan]:
    """Named histories: adherent, lapsing, worsening, improving, new_pain."""
    def adherent(n: int) -> DayPlan:
        return {}

    def lapsing(n: int) -> DayPlan:
        return {} if n < 14 or n % 7 == 0 else None

    def worsening(n: int) -> DayPlan:
        return {"bridge": ("pain", 4, min(10, 3 + n // 4))} if n % 3 != 1 else {}

    def improving(n: int) -> DayPlan:
        level = max(0, 6 - n // 4)
        return {"bridge": ("pain", 6, level)} if level else {}

    def new_pain(n: int) -> DayPlan:
        return {"cat-cow": ("pain", 2, 5)} if n == days - 1 else {}

    return {"adherent": adherent, "lapsing": lapsing, "worsening": worsening, "improving": improving,
            "new_pain": new_pain}[name]
