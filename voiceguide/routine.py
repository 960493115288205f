"""Routines: the model, and the YAML loader that refuses bad files with the line and the fix.

A routine file (see README "Writing a routine") lists exercises. Each exercise is read aloud
(name, cautions, position, steps), then done as `reps` repetitions of its `rep` moves; a move is
a short cue, optionally followed by a hold counted on the beat.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voiceguide.yamlfile import FileError, LineDict, LineList, line_of, load

BUILTIN_DIR = Path(__file__).parent / "routines"


class Kind(str, enum.Enum):
    STRETCH = "stretch"
    STRENGTHEN = "strengthen"
    AEROBIC = "aerobic"


class Sides(str, enum.Enum):
    """How an exercise uses the body's sides.

    one: done as a whole (or on one side only); reps counted once.
    both: every rep on the left, then "now the other side" and every rep on the right.
    alternating: left and right take turns rep by rep; `reps` is per side.
    """

    ONE = "one"
    BOTH = "both"
    ALTERNATING = "alternating"


@dataclass(frozen=True)
class Move:
    """One cue of a rep. `hold` is counted aloud on the beat (counts, one per beat)."""

    say: str
    hold: int = 0


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    kind: Kind
    position: str
    steps: tuple[str, ...]
    reps: int = 0
    rep: tuple[Move, ...] = ()
    sides: Sides = Sides.ONE
    setup: str = ""
    cautions: tuple[str, ...] = ()
    optional: bool = False
    rest_between_reps: float = 2.0  # seconds
    rest_between_sides: float = 5.0  # seconds
    rest_after: float | None = None  # seconds; None: the routine's rest_between_exercises

    @property
    def side_names(self) -> tuple[str, ...]:
        return ("left", "right") if self.sides is not Sides.ONE else ("both",)

    @property
    def reps_target(self) -> int:
        """Reps over all sides: what the log compares reps done against."""
        return self.reps * len(self.side_names)


@dataclass(frozen=True)
class Routine:
    id: str
    name: str
    exercises: tuple[Exercise, ...]
    language: str = "en"
    description: str = ""
    intro: tuple[str, ...] = ()
    closing: tuple[str, ...] = ()
    rest_between_exercises: float = 15.0  # seconds
    source: Path | None = field(default=None, compare=False)

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        raise KeyError(exercise_id)

    def rest_after(self, exercise: Exercise) -> float:
        if exercise.rest_after is not None:
            return exercise.rest_after
        return self.rest_between_exercises


class RoutineError(FileError):
    pass


_EXERCISE_KEYS = {
    "id", "name", "kind", "position", "setup", "steps", "cautions", "reps", "rep", "sides",
    "optional", "rest_between_reps", "rest_between_sides", "rest_after",
}
_ROUTINE_KEYS = {
    "id", "name", "language", "description", "intro", "closing", "rest_between_exercises",
    "exercises", "based_on", "only",
}


class _Reader:
    """Typed access to one YAML mapping, raising RoutineError at the offending line."""

    def __init__(self, path: Path, data: Any, where: str, allowed: set[str]) -> None:
        self.path, self.where = path, where
        if not isinstance(data, LineDict):
            self.fail(data, None, f"{where} must be a mapping of keys to values.",
                      "write it as `key: value` lines.")
        self.data: LineDict = data
        for key in data:
            if key not in allowed:
                self.fail(data, key, f"{where} has an unknown key {key!r}.",
                          f"use one of: {', '.join(sorted(allowed))}.")

    def fail(self, container: Any, key: str | int | None, problem: str, fix: str) -> None:
        line = line_of(container, key) if key is not None else getattr(container, "line", None)
        raise RoutineError(self.path, line, problem, fix)

    def text(self, key: str, required: bool = True, default: str = "") -> str:
        if key not in self.data:
            if required:
                self.fail(self.data, None, f"{self.where} is missing `{key}`.",
                          f"add a line `{key}: ...` to it.")
            return default
        value = self.data[key]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
            self.fail(self.data, key, f"{self.where}.{key} must be non-empty text.",
                      "write the text after the colon, quoted if it contains a colon.")
        return str(value).strip()

    def texts(self, key: str, required: bool = False) -> tuple[str, ...]:
        if key not in self.data:
            if required:
                self.fail(self.data, None, f"{self.where} is missing `{key}`.",
                          f"add `{key}:` followed by lines starting with `- `.")
            return ()
        value = self.data[key]
        if isinstance(value, str):
            return (value.strip(),)
        if not isinstance(value, LineList) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(self.data, key, f"{self.where}.{key} must be a list of sentences.",
                      "write each sentence on its own line starting with `- `.")
        return tuple(v.strip() for v in value)

    def number(self, key: str, default: float, whole: bool = False) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        ok = isinstance(value, int) if whole else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or value < 0:
            kind = "a whole number" if whole else "a number of seconds"
            self.fail(self.data, key, f"{self.where}.{key} must be {kind}, 0 or more; got {value!r}.",
                      f"write e.g. `{key}: {int(default) if whole else default}`.")
        return int(value) if whole else float(value)

    def choice(self, key: str, enum_type: type[enum.Enum], default: enum.Enum | None = None) -> Any:
        names = ", ".join(str(e.value) for e in enum_type)
        if key not in self.data:
            if default is None:
                self.fail(self.data, None, f"{self.where} is missing `{key}`.",
                          f"add `{key}:` with one of: {names}.")
            return default
        try:
            return enum_type(self.data[key])
        except ValueError:
            self.fail(self.data, key, f"{self.where}.{key} is {self.data[key]!r}, which is not known.",
                      f"use one of: {names}.")

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            self.fail(self.data, key, f"{self.where}.{key} must be true or false.", "write true or false.")
        return bool(value)


def _read_move(path: Path, data: Any, where: str) -> Move:
    if isinstance(data, str):
        return Move(say=data.strip())
    reader = _Reader(path, data, where, {"say", "hold"})
    return Move(say=reader.text("say"), hold=reader.number("hold", 0, whole=True))


def _read_exercise(path: Path, data: Any, where: str) -> Exercise:
    r = _Reader(path, data, where, _EXERCISE_KEYS)
    ident = r.text("id")
    where = f"exercise {ident!r}"
    r.where = where
    reps = r.number("reps", 0, whole=True)
    rep_data = r.data.get("rep", LineList())
    if not isinstance(rep_data, LineList):
        r.fail(r.data, "rep", f"{where}.rep must be a list of moves.",
               "write each move as `- say: ...` with an optional `hold: N`.")
    moves = tuple(_read_move(path, m, f"{where}.rep[{i + 1}]") for i, m in enumerate(rep_data))
    if reps and not moves:
        r.fail(r.data, "reps", f"{where} has reps but no `rep` moves to do in each.",
               "add `rep:` with at least one `- say: ...` line, or remove `reps`.")
    if moves and not reps:
        r.fail(r.data, "rep", f"{where} has `rep` moves but no `reps` count.",
               "add `reps: N` (how many times to do the moves).")
    rest_after = r.number("rest_after", -1.0)
    return Exercise(
        id=ident,
        name=r.text("name"),
        kind=r.choice("kind", Kind),
        position=r.text("position"),
        steps=r.texts("steps", required=True),
        reps=reps,
        rep=moves,
        sides=r.choice("sides", Sides, Sides.ONE),
        setup=r.text("setup", required=False),
        cautions=r.texts("cautions"),
        optional=r.flag("optional"),
        rest_between_reps=r.number("rest_between_reps", 2.0),
        rest_between_sides=r.number("rest_between_sides", 5.0),
        rest_after=None if rest_after < 0 else rest_after,
    )


def load_routine(path: Path, search: tuple[Path, ...] = ()) -> Routine:
    """Load and validate a routine file. `search` holds folders for `based_on` lookups."""
    path = Path(path)
    data = load(path)
    if data is None:
        raise RoutineError(path, None, "the file is empty.", "start from a routine in `voiceguide routines show si-joint`.")
    r = _Reader(path, data, "the routine", _ROUTINE_KEYS)
    if "based_on" in r.data:
        return _derive(path, r, search)
    exercises_data = r.data.get("exercises")
    if not isinstance(exercises_data, LineList) or not exercises_data:
        r.fail(r.data, "exercises" if "exercises" in r.data else None,
               "the routine needs `exercises:`, a list with at least one exercise.",
               "add `exercises:` and under it entries starting with `- id: ...`.")
    exercises = []
    seen: dict[str, int] = {}
    for i, item in enumerate(exercises_data):
        exercise = _read_exercise(path, item, f"exercise {i + 1}")
        if exercise.id in seen:
            r.fail(exercises_data, i, f"exercise id {exercise.id!r} is used twice.",
                   f"give each exercise its own id (first use on line {seen[exercise.id]}).")
        seen[exercise.id] = line_of(exercises_data, i) or 0
        exercises.append(exercise)
    return Routine(
        id=r.text("id"),
        name=r.text("name"),
        language=r.text("language", required=False, default="en"),
        description=r.text("description", required=False),
        intro=r.texts("intro"),
        closing=r.texts("closing"),
        rest_between_exercises=r.number("rest_between_exercises", 15.0),
        exercises=tuple(exercises),
        source=path,
    )


def _derive(path: Path, r: _Reader, search: tuple[Path, ...]) -> Routine:
    """A routine made of a subset of another: `based_on: NAME` plus `only: [ids]`."""
    base_name = r.text("based_on")
    base_path = find_routine(base_name, search)
    if base_path is None or base_path.resolve() == path.resolve():
        r.fail(r.data, "based_on", f"based_on names {base_name!r}, which is not a routine.",
               "name a built-in routine or one in your routines folder.")
    base = load_routine(base_path, search)
    only = r.texts("only", required=True)
    known = {e.id for e in base.exercises}
    for i, ident in enumerate(only):
        if ident not in known:
            r.fail(r.data["only"], i, f"only lists {ident!r}, which {base_name} does not have.",
                   f"use ids from: {', '.join(sorted(known))}.")
    return replace(
        base,
        id=r.text("id"),
        name=r.text("name"),
        description=r.text("description", required=False, default=base.description),
        intro=r.texts("intro") or base.intro,
        closing=r.texts("closing") or base.closing,
        rest_between_exercises=r.number("rest_between_exercises", base.rest_between_exercises),
        exercises=tuple(e for e in base.exercises if e.id in only),
        source=path,
    )


def routine_files(search: tuple[Path, ...]) -> dict[str, Path]:
    """Routine name -> file. Users' folders come first in `search` and win over built-ins."""
    found: dict[str, Path] = {}
    for folder in (*search, BUILTIN_DIR):
        if folder.is_dir():
            for file in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                found.setdefault(file.stem, file)
    return found


def find_routine(name_or_path: str, search: tuple[Path, ...] = ()) -> Path | None:
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        return candidate
    return routine_files(search).get(name_or_path)
