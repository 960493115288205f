"""A routine flattened into the steps a session walks through, part by part.

Part 0 is the routine's welcome (when it has one); then one part per exercise:
intro lines, the reps (cue, hold, cue, ..., rep done), the end marker, then the rest before
the next exercise. Commands move a cursor over these steps, so `repeat` and `next` are
index arithmetic rather than special cases.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from voiceguide.commands import lone_phrase
from voiceguide.routine import Exercise, Routine, Sides
from voiceguide.texts import Texts


class StepKind(str, enum.Enum):
    SAY = "say"  # speak, then go on when the speech has finished
    HOLD = "hold"  # count `count` beats aloud
    REST = "rest"  # say `text` (may be empty), wait `seconds`
    REP_DONE = "rep_done"  # marker: a rep is complete
    END = "end"  # marker: the exercise is complete


class Section(str, enum.Enum):
    INTRO = "intro"
    REP = "rep"
    AFTER = "after"  # end marker and the rest before the next exercise


@dataclass(frozen=True)
class Step:
    kind: StepKind
    section: Section
    text: str = ""
    count: int = 0  # beats, for HOLD
    seconds: float = 0.0  # for REST
    side: str = "both"
    rep: int = 0  # 1-based within the side; 0 outside reps
    rep_start: int = 0  # index of the first step of this rep


@dataclass(frozen=True)
class Part:
    exercise: Exercise | None  # None for the routine's welcome
    steps: tuple[Step, ...]


def lone_commands(routine: Routine) -> list[tuple[str, str]]:
    """(sentence, phrase) for each of the routine's sentences that says a command on its own."""
    texts = Texts(routine.language)
    said = dict.fromkeys(s.text for part in build_plan(routine, texts) for s in part.steps if s.text)
    found = ((text, lone_phrase(text, routine.language)) for text in said)
    return [(text, phrase) for text, phrase in found if phrase]


def build_plan(routine: Routine, texts: Texts) -> tuple[Part, ...]:
    parts: list[Part] = []
    if routine.intro:
        parts.append(Part(None, tuple(Step(StepKind.SAY, Section.INTRO, line) for line in routine.intro)))
    last = len(routine.exercises) - 1
    for i, exercise in enumerate(routine.exercises):
        rest = 0.0 if i == last else routine.rest_after(exercise)
        parts.append(Part(exercise, tuple(_exercise_steps(exercise, i == 0, rest, texts))))
    return tuple(parts)


def _exercise_steps(ex: Exercise, first: bool, rest_after: float, texts: Texts) -> list[Step]:
    steps: list[Step] = []

    def say(text: str) -> None:
        steps.append(Step(StepKind.SAY, Section.INTRO, text))

    say(texts("first" if first else "next_up", name=ex.name))
    if ex.optional:
        say(texts("optional"))
    for caution in ex.cautions:
        say(caution)
    say(texts("position", position=ex.position))
    if ex.setup:
        say(ex.setup)
    for line in ex.steps:
        say(line)
    if ex.reps:
        say(texts(f"reps_{ex.sides.value}", reps=ex.reps))
    steps.extend(_rep_steps(ex, texts, len(steps)))
    steps.append(Step(StepKind.END, Section.AFTER))
    if rest_after > 0:
        seconds = int(rest_after) if rest_after == int(rest_after) else rest_after
        steps.append(Step(StepKind.REST, Section.AFTER, texts("rest", seconds=seconds), seconds=rest_after))
    return steps


def _rep_order(ex: Exercise) -> list[tuple[str, int]]:
    """(side, rep within side) in the order they are done."""
    if ex.sides is Sides.ONE:
        return [("both", r) for r in range(1, ex.reps + 1)]
    if ex.sides is Sides.BOTH:
        return [(side, r) for side in ("left", "right") for r in range(1, ex.reps + 1)]
    return [(side, r) for r in range(1, ex.reps + 1) for side in ("left", "right")]


def _rep_steps(ex: Exercise, texts: Texts, offset: int) -> list[Step]:
    steps: list[Step] = []
    order = _rep_order(ex)
    for n, (side, rep) in enumerate(order):
        if n and ex.sides is Sides.BOTH and side != order[n - 1][0]:
            steps.append(Step(StepKind.REST, Section.REP, texts("other_side"),
                              seconds=ex.rest_between_sides, side=side))
        start = offset + len(steps)
        heading = (texts("rep", rep=rep, reps=ex.reps) if side == "both"
                   else texts("rep_side", rep=rep, reps=ex.reps, side=texts.side(side)))
        for m, move in enumerate(ex.rep):
            cue = move.say.replace("{side}", texts.side(side))
            text = f"{heading} {cue}" if m == 0 else cue
            steps.append(Step(StepKind.SAY, Section.REP, text, side=side, rep=rep, rep_start=start))
            if move.hold:
                steps.append(Step(StepKind.HOLD, Section.REP, count=move.hold, side=side,
                                  rep=rep, rep_start=start))
        steps.append(Step(StepKind.REP_DONE, Section.REP, side=side, rep=rep, rep_start=start))
        last_in_side = n + 1 == len(order) or (ex.sides is Sides.BOTH and order[n + 1][0] != side)
        if not last_in_side and ex.rest_between_reps > 0:
            steps.append(Step(StepKind.REST, Section.REP, seconds=ex.rest_between_reps,
                              side=side, rep=rep, rep_start=start))
    return steps
