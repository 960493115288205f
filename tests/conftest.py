"""Shared test helpers: small routines on disk, and a stepper that walks a session in time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voiceguide.commands import CommandEvent, parse
from voiceguide.routine import Routine, load_routine
from voiceguide.session import Heard, Say, Session, Settings, SpeechDone, Tick

ROOT = Path(__file__).resolve().parent.parent

SMALL_ROUTINE = """\
id: small
name: Small routine
exercises:
  - id: lift
    name: Lift
    kind: strengthen
    position: Lie on your back.
    steps:
      - Lift your hips.
      - Then lower them.
    reps: 2
    rep:
      - say: Lift.
        hold: 3
      - say: Lower.
    rest_between_reps: 4
  - id: twist
    name: Twist
    kind: stretch
    position: Lie on your back.
    steps:
      - Twist gently.
    reps: 1
    sides: both
    rep:
      - say: Knees to the {side}.
        hold: 2
"""


@pytest.fixture
def small_routine(tmp_path: Path) -> Routine:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_ROUTINE)
    return load_routine(path)


class Stepper:
    """Walks a Session the way the runner does, with every utterance lasting one second."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.now = 0.0
        self.said: list[str] = []
        self.logged: list = []
        self.speaking: int | None = None
        self.done_at = 0.0

    def apply(self, actions: list) -> list:
        for action in actions:
            kind = type(action).__name__
            if kind == "Say":
                self.said.append(action.text)
                self.speaking, self.done_at = action.utterance, self.now + 1.0
            elif kind == "StopSpeaking":
                self.speaking = None
            elif kind == "Log":
                self.logged.append(action.event)
        return actions

    def step(self) -> None:
        """Advance to the next thing due: the awaited speech ending, or the deadline."""
        s = self.session
        candidates = []
        if s.awaiting is not None:
            candidates.append((self.done_at, "done"))
        if s.deadline is not None:
            candidates.append((s.deadline, "tick"))
        if not candidates:
            raise AssertionError(f"session is stuck in {s.phase}")
        at, kind = min(candidates)
        self.now = max(self.now, at)
        event = SpeechDone(s.awaiting) if kind == "done" else Tick()
        self.apply(s.handle(event, self.now))

    def until(self, predicate, limit: int = 2000) -> None:
        for _ in range(limit):
            if predicate(self.session):
                return
            self.step()
        raise AssertionError("condition never reached")

    def say(self, words: str, after: float = 0.1) -> list:
        self.now += after
        command, value = parse(words)
        event = CommandEvent(command, words, 1.0, self.now, self.now, value)
        return self.apply(self.session.handle(Heard(event), self.now))

    def start(self) -> Stepper:
        from voiceguide.session import Start

        self.apply(self.session.handle(Start(), 0.0))
        return self

    def types(self) -> list[str]:
        return [e.type for e in self.logged]


def new_stepper(routine: Routine, **settings) -> Stepper:
    return Stepper(Session(routine, Settings(**settings))).start()


def run_cli(*args: str, cwd: Path | None = None, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voiceguide", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, input=input_text, timeout=600)


__all__ = ["Say", "Stepper", "new_stepper", "run_cli", "ROOT"]
