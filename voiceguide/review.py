"""Readable views of routines and session logs for the terminal, and CSV export."""

from __future__ import annotations

import csv
from typing import Any, TextIO

from voiceguide.plan import StepKind, build_plan
from voiceguide.routine import Routine
from voiceguide.texts import Texts


def routine_text(routine: Routine) -> str:
    """The routine as it will be spoken: intro lines, then one line per rep."""
    texts = Texts(routine.language)
    lines = [f"{routine.name} ({routine.id}), {len(routine.exercises)} moves", routine.description, ""]
    for part in build_plan(routine, texts):
        if part.exercise is not None:
            e = part.exercise
            extra = ", optional" if e.optional else ""
            lines.append(f"== {e.name} [{e.id}] {e.kind.value}, sides: {e.sides.value}, reps: {e.reps}{extra}")
        for step in part.steps:
            if step.kind is StepKind.SAY:
                lines.append(f"  say   {step.text}")
            elif step.kind is StepKind.HOLD:
                lines.append(f"  hold  {step.count} counts")
            elif step.kind is StepKind.REST:
                lines.append(f"  rest  {step.seconds:g} s {step.text}".rstrip())
    return "\n".join(lines)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def session_table(sessions: list[dict[str, Any]]) -> str:
    rows = [("ID", "ROUTINE", "STARTED", "STATUS", "DONE", "PAIN", "LENGTH")]
    for s in sessions:
        pain = ", ".join(e["id"] for e in s["exercises"] if e["status"] == "pain") or "-"
        rows.append((s["id"], s["routine"] or "?", (s["started"] or "?")[:16].replace("T", " "), s["status"],
                     f"{s['completed']}/{s['total']}", pain, _clock(s["duration"])))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def session_text(s: dict[str, Any]) -> str:
    lines = [
        f"Session {s['id']}: {s['routine_name'] or s['routine']}",
        f"Started {s['started']}, lasted {_clock(s['duration'])}, status {s['status']}.",
        s["summary"],
        "",
    ]
    width = max((len(e["name"]) for e in s["exercises"]), default=0)  # names line up, however long
    for e in s["exercises"]:
        reps = f"{e['reps_done']}/{e['reps_target']} reps" if e["reps_target"] else ""
        pain = ""
        if e["pain_at"]:
            at = e["pain_at"]
            where = f"at rep {at['rep']}" if at["rep"] else "between reps"
            if at["second"] is not None:
                where += f", {at['second']:g} s into the hold"
            side = f", {e['side']} side" if e["side"] != "both" else ""
            pain = f"  pain {where}{side}{_rated(e['pain_level'])}"
        lines.append(f"  {e['name']:<{width}}  {e['status']:<12} {reps:<12}{pain}".rstrip())
    # A pain said during the introduction belongs to no move, but a therapist must see it too.
    lines += [f"  Pain before the first move, at {_clock(p['t'])}{_rated(p['level'])}"
              for p in s.get("pains", []) if p["exercise"] is None]
    if s.get("notes"):
        lines += ["", "Notes:"] + [f"  {_clock(n['t']):>6}  {n['message']}" for n in s["notes"]]
    return "\n".join(lines)


def _rated(level: int | None) -> str:
    return f", rated {level}/10" if level is not None else ", not rated"


CSV_FIELDS = ("session", "routine", "started", "session_status", "exercise", "name", "status", "side",
              "reps_done", "reps_target", "pain_level", "pain_rep", "pain_second", "exercise_started",
              "exercise_ended")


def write_csv(sessions: list[dict[str, Any]], out: TextIO) -> None:
    writer = csv.DictWriter(out, CSV_FIELDS)
    writer.writeheader()
    for s in sessions:
        for e in s["exercises"]:
            at = e["pain_at"] or {}
            writer.writerow({
                "session": s["id"], "routine": s["routine"], "started": s["started"],
                "session_status": s["status"], "exercise": e["id"], "name": e["name"], "status": e["status"],
                "side": e["side"], "reps_done": e["reps_done"], "reps_target": e["reps_target"],
                "pain_level": e["pain_level"], "pain_rep": at.get("rep"), "pain_second": at.get("second"),
                "exercise_started": e["started"], "exercise_ended": e["ended"],
            })


def history_text(r: Any) -> str:
    """`log summary` for the terminal: weeks, streak, moves, pain trends, warning signs."""
    pct = round(r.adherence * 100)
    lines = [f"Sessions: {r.sessions} in the last {len(r.weeks)} weeks ({pct}% of plan), "
             f"current streak {r.streak_days} days, {r.total_minutes:g} minutes in all.", ""]
    lines.append(f"{'WEEK':<10} {'FROM':<11} {'DONE':>4} {'PLAN':>4}")
    for w in r.weeks:
        bar = "#" * w["sessions"]
        lines.append(f"{w['week']:<10} {w['start']:<11} {w['sessions']:>4} {w['plan']:>4}  {bar}")
    lines += ["", f"{'MOVE':<30} {'DONE':>4} {'SKIP':>4} {'PAIN':>4}  PAIN 0-10 FIRST WEEK -> LAST WEEK"]
    for m in r.moves:
        trend = "-" if m.first_week_pain is None else f"{m.first_week_pain:g} -> {m.last_week_pain:g}"
        lines.append(f"{m.name:<30} {m.completed:>4} {m.skipped:>4} {m.pain:>4}  {trend}")
    lines.append("")
    if r.warnings:
        lines.append("Warning signs:")
        lines += [f"  - {w.text}" for w in r.warnings]
    else:
        lines.append("No warning signs in these logs.")
    return "\n".join(lines)
