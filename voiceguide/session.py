"""The session as a pure state machine: handle(event, now) -> actions.

No threads, no audio, no clock reads: time is passed in (seconds since session start) and the
caller performs the returned actions. The caller also calls handle(Tick(), now) once `now`
reaches `deadline`, and reports the end of each Say with SpeechDone.

Order of events in a normal exercise: ExerciseStarted, intro Says, then per rep the cue Says
and hold counts, RepDone, short rests; ExerciseEnded(completed); the rest before the next one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voiceguide import events as ev
from voiceguide.commands import URGENT, Command, CommandEvent, device_state, help_text
from voiceguide.plan import Part, Section, Step, StepKind, build_plan
from voiceguide.routine import Routine
from voiceguide.texts import Texts


class Phase(str, enum.Enum):
    SPEAKING = "speaking"  # a spoken step; goes on when its speech is done
    COUNTING = "counting"  # counting a hold on the beat
    RESTING = "resting"  # a timed rest
    INTERJECTING = "interjecting"  # answering help/status; then the current step again
    PAUSED = "paused"
    PAIN_RATING = "pain_rating"  # asked for 0-10; times out
    PAIN_REST = "pain_rest"  # waits for next/resume: the one place the session waits
    CLOSING = "closing"  # the end summary is being spoken
    DONE = "done"


# Phases a device's pause stops (see Session._device): the others wait for the person already,
# or are ending.
PAUSABLE = frozenset({Phase.SPEAKING, Phase.COUNTING, Phase.RESTING, Phase.INTERJECTING})


# Events the session handles.
@dataclass(frozen=True)
class Start:
    pass


@dataclass(frozen=True)
class Heard:
    command: CommandEvent


@dataclass(frozen=True)
class SpeechDone:
    utterance: int


@dataclass(frozen=True)
class Tick:
    pass


@dataclass(frozen=True)
class InputEnded:
    pass


@dataclass(frozen=True)
class Told:
    """Trouble with the equipment that the person should hear of: `key` names the sentence."""

    key: str


SessionInput = Start | Heard | SpeechDone | Tick | InputEnded | Told


# Actions the caller performs.
@dataclass(frozen=True)
class Say:
    utterance: int
    text: str


@dataclass(frozen=True)
class StopSpeaking:
    pass


@dataclass(frozen=True)
class Log:
    event: ev.Event


Action = Say | StopSpeaking | Log


@dataclass(frozen=True)
class Settings:
    beat: float = 1.0  # seconds per count
    beat_min: float = 0.5
    beat_max: float = 3.0
    beat_step: float = 1.25  # factor applied by slower/faster
    pain_rating_timeout: float = 20.0  # seconds to wait for a 0-10 answer


@dataclass
class _Attempt:
    """Progress on the exercise of the current part."""

    started: float
    reps_done: int = 0
    ended: bool = False


@dataclass
class _Outcome:
    status: str = "not_reached"
    pain_rep: int | None = None
    pain_level: int | None = None
    pained: bool = False


@dataclass
class _State:
    phase: Phase = Phase.SPEAKING
    part: int = 0
    step: int = 0
    deadline: float | None = None
    awaiting: int | None = None  # utterance whose end moves the session on
    hold_start: float = 0.0
    count: int = 0  # counts said in the current hold
    rest_left: float = 0.0  # seconds of rest left when paused
    paused_from: Phase = Phase.SPEAKING
    paused_by_device: str | None = None  # the device lost or muted that paused it; None: the person did
    input_ended: bool = False
    rated: bool = False  # the latest pain has a 0-10 rating
    attempt: _Attempt | None = None
    outcomes: dict[str, _Outcome] = field(default_factory=dict)


class Session:
    """Drives one routine. See the module docstring for the contract."""

    def __init__(self, routine: Routine, settings: Settings = Settings(),
                 advice: Callable[[list[dict[str, Any]]], str | None] | None = None) -> None:
        """`advice` maps this session's results (log-entry shaped) to a warning sentence, if any;
        it must be pure, like the session (history is loaded before the session starts)."""
        self.routine = routine
        self.settings = settings
        self.advice = advice
        self.beat = settings.beat
        self.texts = Texts(routine.language)
        self.parts: tuple[Part, ...] = build_plan(routine, self.texts)
        self.s = _State(outcomes={e.id: _Outcome() for e in routine.exercises})
        self._utterances = 0
        self._out: list[Action] = []

    # --- public view -------------------------------------------------------------------
    @property
    def phase(self) -> Phase:
        return self.s.phase

    @property
    def deadline(self) -> float | None:
        """Session time at which the caller must send Tick (None: nothing timed)."""
        return self.s.deadline

    @property
    def finished(self) -> bool:
        return self.s.phase is Phase.DONE

    @property
    def awaiting(self) -> int | None:
        return self.s.awaiting

    @property
    def pausable(self) -> bool:
        """Whether a device's pause would pause the session now."""
        return self.s.phase in PAUSABLE

    @property
    def wants_number(self) -> bool:
        """Whether a 0-10 pain rating would be taken now: asked for, or not yet given."""
        return self.s.phase is Phase.PAIN_RATING or (self.s.phase is Phase.PAIN_REST and not self.s.rated)

    def outcome(self, exercise_id: str) -> str:
        return self.s.outcomes[exercise_id].status

    # --- the one entry point -----------------------------------------------------------
    def handle(self, event: SessionInput, now: float) -> list[Action]:
        self._out = []
        if self.s.phase is Phase.DONE:
            return []
        if isinstance(event, Start):
            self._enter_part(0, now)
        elif isinstance(event, SpeechDone):
            self._speech_done(event.utterance, now)
        elif isinstance(event, Tick):
            if self.s.deadline is not None and now >= self.s.deadline - 1e-9:
                self._tick(now)
        elif isinstance(event, InputEnded):
            self.s.input_ended = True
            self._end_if_stuck(now)
        elif isinstance(event, Heard):
            self._heard(event.command, now)
        elif isinstance(event, Told) and self.s.phase is not Phase.CLOSING:
            self._interject(self.texts(event.key), now)
        return self._out

    # --- helpers that produce actions --------------------------------------------------
    def _say(self, text: str, await_it: bool = True) -> int:
        self._utterances += 1
        self._out.append(Say(self._utterances, text))
        if await_it:
            self.s.awaiting = self._utterances
        return self._utterances

    def _log(self, event: ev.Event) -> None:
        self._out.append(Log(event))

    def _silence(self) -> None:
        self._out.append(StopSpeaking())
        self.s.awaiting = None

    @property
    def _part(self) -> Part:
        return self.parts[self.s.part]

    @property
    def _step(self) -> Step:
        # Past the last step only once the session is closing; the END marker stands in.
        steps = self._part.steps
        return steps[min(self.s.step, len(steps) - 1)]

    # --- walking the plan --------------------------------------------------------------
    def _enter_part(self, index: int, now: float) -> None:
        if index >= len(self.parts):
            self._finish("completed", now)
            return
        self.s.part, self.s.step = index, 0
        exercise = self._part.exercise
        self.s.attempt = None
        if exercise is not None:
            self.s.attempt = _Attempt(started=now)
            self._log(ev.ExerciseStarted(now, exercise.id, exercise.name, exercise.reps_target,
                                         exercise.sides.value))
        self._enter_step(now)

    def _enter_step(self, now: float, rest_seconds: float | None = None) -> None:
        """Begin the step at the cursor (or the next part when this one is used up)."""
        s = self.s
        while True:
            if s.step >= len(self._part.steps):
                self._enter_part(s.part + 1, now)
                return
            step = self._step
            if step.kind is StepKind.REP_DONE:
                self._rep_done(now)
                s.step += 1
                continue
            if step.kind is StepKind.END:
                self._end_exercise("completed", now)
                s.step += 1
                continue
            break
        s.deadline = None
        if step.kind is StepKind.SAY:
            s.phase = Phase.SPEAKING
            self._say(step.text)
        elif step.kind is StepKind.HOLD:
            s.phase, s.hold_start, s.count = Phase.COUNTING, now, 0
            s.awaiting = None
            s.deadline = now + self.beat
        elif step.kind is StepKind.REST:
            s.phase = Phase.RESTING
            s.awaiting = None
            if step.text and rest_seconds is None:
                self._say(step.text, await_it=False)
            s.deadline = now + (step.seconds if rest_seconds is None else rest_seconds)

    def _advance(self, now: float) -> None:
        self.s.step += 1
        self._enter_step(now)

    def _speech_done(self, utterance: int, now: float) -> None:
        s = self.s
        if utterance != s.awaiting:
            return  # an earlier or unawaited utterance; nothing waits on it
        s.awaiting = None
        if s.phase is Phase.SPEAKING or s.phase is Phase.COUNTING:
            self._advance(now)
        elif s.phase is Phase.INTERJECTING:
            self._restart_step(now)
        elif s.phase is Phase.CLOSING:
            s.phase = Phase.DONE

    def _tick(self, now: float) -> None:
        s = self.s
        if s.phase is Phase.COUNTING:
            s.count += 1
            last = s.count >= self._step.count
            # The next count is due one beat after this one was due, not after it was said.
            s.deadline = None if last else s.deadline + self.beat  # type: ignore[operator]
            self._say(self.texts.count(s.count), await_it=last)
        elif s.phase is Phase.RESTING:
            self._advance(now)
        elif s.phase is Phase.PAIN_RATING:
            s.deadline = None
            self._to_pain_rest(now, rated=False)

    def _rep_done(self, now: float) -> None:
        step, attempt = self._step, self.s.attempt
        if attempt is None or self._part.exercise is None:
            return
        attempt.reps_done += 1
        self._log(ev.RepDone(now, self._part.exercise.id, step.side, step.rep, attempt.reps_done))

    def _end_exercise(self, status: str, now: float) -> None:
        attempt, exercise = self.s.attempt, self._part.exercise
        if attempt is None or exercise is None or attempt.ended:
            return
        attempt.ended = True
        side = self._step.side
        self._log(ev.ExerciseEnded(now, exercise.id, status, attempt.reps_done, side))
        outcome = self.s.outcomes[exercise.id]
        if outcome.status != "pain":  # pain on any attempt is what the summary must tell
            outcome.status = status

    def _restart_step(self, now: float, rest_seconds: float | None = None) -> None:
        """Re-enter the current step; inside a rep, from the start of that rep."""
        step = self._step
        if step.section is Section.REP and step.kind is not StepKind.REST:
            self.s.step = step.rep_start
        self._enter_step(now, rest_seconds)

    def _finish(self, status: str, now: float, reason: str = "") -> None:
        s = self.s
        s.deadline = None
        summary = self.summary()
        warning = self.advice(self.results()) if self.advice else None
        if warning:
            summary = f"{summary} {warning}"
        self._log(ev.SessionEnded(now, status, summary, reason))
        if status == "incomplete":
            s.phase = Phase.DONE
            return
        lines = list(self.routine.closing) if status == "completed" else []
        for line in lines:
            self._say(line, await_it=False)
        s.phase = Phase.CLOSING
        self._say(f"{summary} {self.texts('goodbye')}")

    def results(self) -> list[dict[str, Any]]:
        """Per exercise, the fields a log review reads: id, name, status, pain_at, pain_level."""
        return [{"id": e.id, "name": e.name, "status": self.s.outcomes[e.id].status,
                 "pain_at": {"rep": self.s.outcomes[e.id].pain_rep} if self.s.outcomes[e.id].pained else None,
                 "pain_level": self.s.outcomes[e.id].pain_level} for e in self.routine.exercises]

    def summary(self) -> str:
        total = len(self.routine.exercises)
        done = sum(1 for o in self.s.outcomes.values() if o.status == "completed")
        text = self.texts("summary", done=done, total=total)
        for exercise in self.routine.exercises:
            outcome = self.s.outcomes[exercise.id]
            if outcome.status == "pain":
                at = self.texts("summary_pain_rep", rep=outcome.pain_rep) if outcome.pain_rep else ""
                text += self.texts("summary_pain", name=exercise.name.lower(), at=at)
        return text

    # --- commands ----------------------------------------------------------------------
    def _heard(self, cmd: CommandEvent, now: float) -> None:
        s = self.s
        self._log(ev.CommandHeard(now, cmd.command.value, cmd.text, s.phase.value, cmd.confidence))
        c = cmd.command
        if s.phase is Phase.CLOSING:
            if c in URGENT:  # stop (or pain) while saying goodbye: just end
                self._silence()
                s.phase = Phase.DONE
            return
        device = device_state(cmd.text)
        if device is not None:
            self._device(c, device, now)
        elif c is Command.PAIN:
            if s.phase not in (Phase.PAIN_RATING, Phase.PAIN_REST):  # already stopped for it
                self._pain(now)
        elif c is Command.STOP:
            self._silence()
            self._end_exercise("stopped", now)
            self._finish("stopped", now)
        elif c in (Command.HELP, Command.STATUS):
            self._interject(help_text(self.routine.language) if c is Command.HELP else self._status(), now)
        elif c in (Command.SLOWER, Command.FASTER):
            self._change_beat(c, now)
        elif s.phase is Phase.PAIN_RATING:
            self._in_pain_rating(cmd, now)
        elif s.phase is Phase.PAIN_REST:
            self._in_pain_rest(cmd, now)
        elif s.phase is Phase.PAUSED:
            if c in (Command.RESUME, Command.NEXT, Command.REPEAT, Command.SKIP, Command.BACK):
                self._resume(now, then=None if c is Command.RESUME else c)
        elif c is Command.PAUSE:
            self._pause(now)
        elif c is Command.NEXT:
            self._next(now)
        elif c is Command.REPEAT:
            self._repeat(now)
        elif c is Command.SKIP:
            self._skip(now)
        elif c is Command.BACK:
            self._back(now)
        # RESUME while running and numbers outside a pain rating change nothing.

    def _pain(self, now: float) -> None:
        s = self.s
        self._silence()
        exercise = self._part.exercise
        step = self._step
        in_rep = s.phase is not Phase.PAIN_REST and step.section is Section.REP
        rep = step.rep if in_rep and step.rep else None
        second = round(now - s.hold_start, 3) if s.phase is Phase.COUNTING else None
        side = step.side
        where = s.paused_from.value if s.phase is Phase.PAUSED else s.phase.value
        self._log(ev.Pain(now, exercise.id if exercise else None, side, rep, second, where))
        if exercise is not None:
            outcome = s.outcomes[exercise.id]
            outcome.pained = True
            if s.attempt is not None and not s.attempt.ended:
                self._end_exercise("pain", now)
                outcome.status = "pain"
                outcome.pain_rep = rep
        s.phase, s.rated = Phase.PAIN_RATING, False
        s.deadline = now + self.settings.pain_rating_timeout
        self._say(self.texts("pain_ask"), await_it=False)

    def _in_pain_rating(self, cmd: CommandEvent, now: float) -> None:
        s = self.s
        if cmd.command is Command.NUMBER and cmd.value is not None:
            self._log_rating(cmd.value, now)
            s.deadline = None
            self._to_pain_rest(now, rated=True)
        elif cmd.command in (Command.NEXT, Command.RESUME, Command.SKIP):
            s.deadline = None
            self._silence()
            self._enter_part(s.part + 1, now)
        elif cmd.command is Command.REPEAT:
            self._say(self.texts("pain_ask"), await_it=False)

    def _log_rating(self, level: int, now: float) -> None:
        exercise = self._part.exercise
        self.s.rated = True
        if exercise is not None:
            self.s.outcomes[exercise.id].pain_level = level
        self._log(ev.PainRating(now, exercise.id if exercise else None, level))

    def _to_pain_rest(self, now: float, rated: bool) -> None:
        self.s.phase = Phase.PAIN_REST
        self._say(self.texts("pain_thanks" if rated else "pain_rest"), await_it=False)
        self._end_if_stuck(now)

    def _in_pain_rest(self, cmd: CommandEvent, now: float) -> None:
        command = cmd.command
        if command is Command.NUMBER and cmd.value is not None and not self.s.rated:
            self._log_rating(cmd.value, now)  # a late answer still counts
        elif command in (Command.NEXT, Command.RESUME, Command.SKIP):
            self._silence()
            self._enter_part(self.s.part + 1, now)
        elif command is Command.REPEAT:
            self._say(self.texts("pain_rest"), await_it=False)
        elif command is Command.BACK:  # try the same move again
            self._silence()
            self._enter_part(self.s.part, now)

    def _end_if_stuck(self, now: float) -> None:
        """With no more input, a session waiting for the person can never go on."""
        if self.s.input_ended and self.s.phase in (Phase.PAIN_REST, Phase.PAUSED):
            self._finish("incomplete", now, reason=f"input ended while {self.s.phase.value}")

    def _device(self, command: Command, device: tuple[str, str], now: float) -> None:
        """A device's own pause or resume (commands.device_state). It pauses only what a pause
        can stop: a pain rating and the rest after it wait for the person anyway. Coming back, it
        undoes only its own pause: not one the person asked for, nor the other device's; and
        never does what the person's "resume" would do elsewhere, such as leave the rest after a
        pain for the next move."""
        s = self.s
        if command is Command.PAUSE and s.phase in PAUSABLE:
            self._pause(now, device)
        elif command is Command.RESUME and s.phase is Phase.PAUSED and s.paused_by_device == device[0]:
            self._resume(now, then=None, device=device[1])

    def _pause(self, now: float, device: tuple[str, str] | None = None) -> None:
        """Pause; `device` is (device, what happened to it) when a device, not the person, caused
        it (see commands.device_state), and the guide then says so: "Paused. Say resume" would ask
        for what it cannot hear."""
        s = self.s
        self._silence()
        s.rest_left = max(0.0, (s.deadline or now) - now) if s.phase is Phase.RESTING else 0.0
        s.paused_from = Phase.SPEAKING if s.phase is Phase.INTERJECTING else s.phase
        s.phase, s.deadline = Phase.PAUSED, None
        s.paused_by_device = device[0] if device else None
        self._log(ev.Paused(now))
        self._say(self.texts(f"paused_{device[1]}" if device else "paused"), await_it=False)
        self._end_if_stuck(now)

    def _resume(self, now: float, then: Command | None, device: str | None = None) -> None:
        """Go on where the pause began; `device` is what came back when a device resumed it."""
        s = self.s
        self._silence()
        self._log(ev.Resumed(now))
        s.phase = s.paused_from
        if then is not None:
            self._heard_after_resume(then, now)
            return
        self._say(self.texts(f"resuming_{device}" if device else "resuming"), await_it=False)
        self._restart_step(now, s.rest_left if s.paused_from is Phase.RESTING else None)

    def _heard_after_resume(self, command: Command, now: float) -> None:
        {Command.NEXT: self._next, Command.REPEAT: self._repeat, Command.SKIP: self._skip,
         Command.BACK: self._back}[command](now)

    def _interject(self, text: str, now: float) -> None:
        s = self.s
        if s.phase in (Phase.RESTING, Phase.PAUSED, Phase.PAIN_RATING, Phase.PAIN_REST):
            self._say(text, await_it=False)  # timers and waits carry on
            return
        self._silence()
        s.phase, s.deadline = Phase.INTERJECTING, None
        self._say(text)

    def _status(self) -> str:
        s = self.s
        exercise = self._part.exercise
        later = len(self.parts) - s.part - 1
        if exercise is None:
            return self.texts("status_none", left=len(self.routine.exercises))
        step = self._step
        where = (self.texts("status_rep", rep=step.rep, reps=exercise.reps)
                 if step.rep else self.texts("status_intro"))
        return self.texts("status", name=exercise.name, where=where, left=later)

    def _change_beat(self, command: Command, now: float) -> None:
        st = self.settings
        factor = st.beat_step if command is Command.SLOWER else 1 / st.beat_step
        old, self.beat = self.beat, round(min(st.beat_max, max(st.beat_min, self.beat * factor)), 3)
        if self.s.phase is Phase.COUNTING and self.s.deadline is not None:
            self.s.deadline += self.beat - old  # the next count is one new beat after the last
        self._log(ev.BeatChanged(now, self.beat))
        if self.s.phase is not Phase.COUNTING:  # no words between counts
            self._say(self.texts(command.value), await_it=False)

    def _next(self, now: float) -> None:
        s = self.s
        self._silence()
        step = self._step
        if step.section is Section.REP and step.kind is not StepKind.REST:
            # Finish this rep now: jump to its REP_DONE marker.
            while self._step.kind is not StepKind.REP_DONE:
                s.step += 1
            self._enter_step(now)
        else:
            self._advance(now)

    def _repeat(self, now: float) -> None:
        self._silence()
        if self.s.phase is Phase.RESTING:
            step = self._step
            if step.text:
                self._say(step.text, await_it=False)
            return
        self._restart_step(now)

    def _skip(self, now: float) -> None:
        s = self.s
        self._silence()
        exercise = self._part.exercise
        if exercise is not None and s.attempt is not None and not s.attempt.ended:
            self._end_exercise("skipped", now)
            self._say(self.texts("skipping", name=exercise.name), await_it=False)
        self._enter_part(s.part + 1, now)

    def _back(self, now: float) -> None:
        s = self.s
        self._silence()
        step = self._step
        if step.section is Section.INTRO and s.step > 0:
            s.step -= 1
            self._enter_step(now)
            return
        if step.section is Section.INTRO or self._part.exercise is None:
            target = max(0, s.part - 1)  # at the start of a move: the one before
        else:
            target = s.part  # part way through a move: its start
        if s.attempt is not None and not s.attempt.ended and target != s.part:
            self._end_exercise("skipped", now)
        elif s.attempt is not None and not s.attempt.ended:
            self._end_exercise("restarted", now)  # the new attempt's outcome replaces it
        self._enter_part(target, now)
