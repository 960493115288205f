"""The session state machine, by tables of (phase, command) cases and by timed walks."""

from __future__ import annotations

import pytest
from conftest import new_stepper

from voiceguide.session import InputEnded, Phase

COMMANDS = ["next", "repeat", "skip", "pain", "pause", "resume", "back", "stop", "help", "status",
            "slower", "faster", "7"]


def reach(stepper, phase: str):
    """Bring a fresh session on the small routine into the named phase."""
    if phase == "speaking":  # the second intro line, so `back` has a line to go back to
        stepper.until(lambda s: s.phase is Phase.SPEAKING and stepper.said[-1].startswith("Start position"))
    elif phase == "counting":
        stepper.until(lambda s: s.phase is Phase.COUNTING)
        stepper.step()  # "one" has been said
    elif phase == "resting":
        stepper.until(lambda s: s.phase is Phase.RESTING)
    elif phase == "paused":
        reach(stepper, "counting")
        stepper.say("pause")
    elif phase == "pain_rating":
        reach(stepper, "counting")
        stepper.say("pain")
    elif phase == "pain_rest":
        reach(stepper, "pain_rating")
        stepper.say("5")
    assert stepper.session.phase.value == phase
    stepper.logged.clear()
    return stepper


# (phase, command) -> (phase after, log event types after the command line, last words said or None)
CASES = {
    ("speaking", "next"): ("speaking", [], "Lift your hips."),
    ("speaking", "repeat"): ("speaking", [], "Start position. Lie on your back."),
    ("speaking", "skip"): ("speaking", ["exercise_end", "exercise_start"], "Time for Twist."),
    ("speaking", "pain"): ("pain_rating", ["pain", "exercise_end"], "Stopping now. How bad is the pain, from zero to ten?"),
    ("speaking", "pause"): ("paused", ["paused"], "Paused. Say resume when you are ready."),
    ("speaking", "resume"): ("speaking", [], "Start position. Lie on your back."),
    ("speaking", "back"): ("speaking", [], "We begin with Lift."),
    ("speaking", "stop"): ("closing", ["exercise_end", "session_end"], None),
    ("speaking", "help"): ("interjecting", [], None),
    ("speaking", "status"): ("interjecting", [], "Lift, getting ready. 1 moves left after this one."),
    ("speaking", "slower"): ("speaking", ["beat"], "Counting slower."),
    ("speaking", "faster"): ("speaking", ["beat"], "Counting faster."),
    ("speaking", "7"): ("speaking", [], "Start position. Lie on your back."),
    ("counting", "next"): ("resting", ["rep_done"], None),
    ("counting", "repeat"): ("speaking", [], "Rep 1 of 2. Lift."),
    ("counting", "skip"): ("speaking", ["exercise_end", "exercise_start"], "Time for Twist."),
    ("counting", "pain"): ("pain_rating", ["pain", "exercise_end"], "Stopping now. How bad is the pain, from zero to ten?"),
    ("counting", "pause"): ("paused", ["paused"], "Paused. Say resume when you are ready."),
    ("counting", "resume"): ("counting", [], "one"),
    ("counting", "back"): ("speaking", ["exercise_end", "exercise_start"], "We begin with Lift."),
    ("counting", "stop"): ("closing", ["exercise_end", "session_end"], None),
    ("counting", "help"): ("interjecting", [], None),
    ("counting", "status"): ("interjecting", [], "Lift, rep 1 of 2. 1 moves left after this one."),
    ("counting", "slower"): ("counting", ["beat"], "one"),
    ("counting", "faster"): ("counting", ["beat"], "one"),
    ("counting", "7"): ("counting", [], "one"),
    ("resting", "next"): ("speaking", [], "Rep 2 of 2. Lift."),
    ("resting", "repeat"): ("resting", [], "Lower."),
    ("resting", "skip"): ("speaking", ["exercise_end", "exercise_start"], "Time for Twist."),
    ("resting", "pain"): ("pain_rating", ["pain", "exercise_end"], "Stopping now. How bad is the pain, from zero to ten?"),
    ("resting", "pause"): ("paused", ["paused"], "Paused. Say resume when you are ready."),
    ("resting", "resume"): ("resting", [], "Lower."),
    ("resting", "back"): ("speaking", ["exercise_end", "exercise_start"], "We begin with Lift."),
    ("resting", "stop"): ("closing", ["exercise_end", "session_end"], None),
    ("resting", "help"): ("resting", [], None),
    ("resting", "status"): ("resting", [], "Lift, rep 1 of 2. 1 moves left after this one."),
    ("resting", "slower"): ("resting", ["beat"], "Counting slower."),
    ("resting", "faster"): ("resting", ["beat"], "Counting faster."),
    ("resting", "7"): ("resting", [], "Lower."),
    ("paused", "next"): ("resting", ["resumed", "rep_done"], None),
    ("paused", "repeat"): ("speaking", ["resumed"], "Rep 1 of 2. Lift."),
    ("paused", "skip"): ("speaking", ["resumed", "exercise_end", "exercise_start"], "Time for Twist."),
    ("paused", "pain"): ("pain_rating", ["pain", "exercise_end"], "Stopping now. How bad is the pain, from zero to ten?"),
    ("paused", "pause"): ("paused", [], "Paused. Say resume when you are ready."),
    ("paused", "resume"): ("speaking", ["resumed"], "Rep 1 of 2. Lift."),
    ("paused", "back"): ("speaking", ["resumed", "exercise_end", "exercise_start"], "We begin with Lift."),
    ("paused", "stop"): ("closing", ["exercise_end", "session_end"], None),
    ("paused", "help"): ("paused", [], None),
    ("paused", "status"): ("paused", [], "Lift, rep 1 of 2. 1 moves left after this one."),
    ("paused", "slower"): ("paused", ["beat"], "Counting slower."),
    ("paused", "faster"): ("paused", ["beat"], "Counting faster."),
    ("paused", "7"): ("paused", [], "Paused. Say resume when you are ready."),
    ("pain_rating", "next"): ("speaking", ["exercise_start"], None),
    ("pain_rating", "repeat"): ("pain_rating", [], "Stopping now. How bad is the pain, from zero to ten?"),
    ("pain_rating", "skip"): ("speaking", ["exercise_start"], None),
    ("pain_rating", "pain"): ("pain_rating", [], "Stopping now. How bad is the pain, from zero to ten?"),
    ("pain_rating", "pause"): ("pain_rating", [], "Stopping now. How bad is the pain, from zero to ten?"),
    ("pain_rating", "resume"): ("speaking", ["exercise_start"], None),
    ("pain_rating", "back"): ("pain_rating", [], "Stopping now. How bad is the pain, from zero to ten?"),
    ("pain_rating", "stop"): ("closing", ["session_end"], None),
    ("pain_rating", "help"): ("pain_rating", [], None),
    ("pain_rating", "status"): ("pain_rating", [], "Lift, rep 1 of 2. 1 moves left after this one."),
    ("pain_rating", "slower"): ("pain_rating", ["beat"], "Counting slower."),
    ("pain_rating", "faster"): ("pain_rating", ["beat"], "Counting faster."),
    ("pain_rating", "7"): ("pain_rest", ["pain_rating"], "Thank you. Rest on your back. Say next when you are ready to go on."),
    ("pain_rest", "next"): ("speaking", ["exercise_start"], None),
    ("pain_rest", "repeat"): ("pain_rest", [], "Rest on your back. Say next when you are ready to go on."),
    ("pain_rest", "skip"): ("speaking", ["exercise_start"], None),
    ("pain_rest", "pain"): ("pain_rest", [], "Thank you. Rest on your back. Say next when you are ready to go on."),
    ("pain_rest", "pause"): ("pain_rest", [], "Thank you. Rest on your back. Say next when you are ready to go on."),
    ("pain_rest", "resume"): ("speaking", ["exercise_start"], None),
    ("pain_rest", "back"): ("speaking", ["exercise_start"], "We begin with Lift."),
    ("pain_rest", "stop"): ("closing", ["session_end"], None),
    ("pain_rest", "help"): ("pain_rest", [], None),
    ("pain_rest", "status"): ("pain_rest", [], "Lift, rep 1 of 2. 1 moves left after this one."),
    ("pain_rest", "slower"): ("pain_rest", ["beat"], "Counting slower."),
    ("pain_rest", "faster"): ("pain_rest", ["beat"], "Counting faster."),
    ("pain_rest", "7"): ("pain_rest", [], "Thank you. Rest on your back. Say next when you are ready to go on."),
}


def test_every_command_in_every_phase_has_a_case():
    phases = {"speaking", "counting", "resting", "paused", "pain_rating", "pain_rest"}
    assert set(CASES) == {(p, c) for p in phases for c in COMMANDS}


@pytest.mark.parametrize(("phase", "command"), sorted(CASES))
def test_command_in_phase(small_routine, phase, command):
    expected_phase, expected_events, expected_said = CASES[(phase, command)]
    stepper = reach(new_stepper(small_routine), phase)
    stepper.say(command)
    types = stepper.types()
    assert types[0] == "command" and stepper.logged[0].phase == phase
    assert stepper.session.phase.value == expected_phase
    assert types[1:] == expected_events
    if expected_said is not None:
        assert stepper.said[-1] == expected_said
    if (phase, command) in (("speaking", "help"), ("counting", "help")):
        assert stepper.said[-1].startswith("You can say: next")
    if command in ("next", "skip", "resume") and phase.startswith("pain"):
        assert stepper.said[-1] == "Time for Twist."


def test_pain_logs_exercise_side_rep_and_second_of_the_hold(small_routine):
    stepper = new_stepper(small_routine)
    stepper.until(lambda s: s.phase is Phase.COUNTING)
    stepper.step()
    stepper.step()  # "one" and "two" said: two seconds into the hold
    stepper.say("ouch", after=0.5)
    pain = next(e for e in stepper.logged if e.type == "pain")
    assert (pain.exercise, pain.side, pain.rep, pain.second) == ("lift", "both", 1, 2.5)
    end = next(e for e in stepper.logged if e.type == "exercise_end")
    assert (end.status, end.reps_done) == ("pain", 0)


def test_counts_fall_on_the_beat_not_after_the_previous_word(small_routine):
    stepper = new_stepper(small_routine, beat=1.0)
    stepper.until(lambda s: s.phase is Phase.COUNTING)
    start = stepper.now
    times = []
    for _ in range(3):
        stepper.step()
        times.append(round(stepper.now - start, 3))
    # Each spoken count lasts 1 s in the stepper, yet counts stay 1 s apart.
    assert times == [1.0, 2.0, 3.0]
    assert stepper.said[-3:] == ["one", "two", "three"]


def test_slower_stretches_the_beat_from_the_next_count(small_routine):
    stepper = new_stepper(small_routine, beat=1.0, beat_step=1.5)
    stepper.until(lambda s: s.phase is Phase.COUNTING)
    stepper.step()
    t_one = stepper.now
    stepper.say("slower", after=0.2)
    stepper.step()
    assert round(stepper.now - t_one, 3) == 1.5


def test_beat_stays_within_its_limits(small_routine):
    stepper = new_stepper(small_routine, beat=1.0, beat_max=2.0)
    for _ in range(10):
        stepper.say("slower")
    assert stepper.session.beat == 2.0


def test_unattended_routine_runs_to_the_end(small_routine):
    stepper = new_stepper(small_routine)
    stepper.until(lambda s: s.finished)
    ends = [(e.exercise, e.status, e.reps_done) for e in stepper.logged if e.type == "exercise_end"]
    assert ends == [("lift", "completed", 2), ("twist", "completed", 2)]
    assert "Now the other side." in stepper.said
    sides = [e.side for e in stepper.logged if e.type == "rep_done" and e.exercise == "twist"]
    assert sides == ["left", "right"]
    assert stepper.logged[-1].type == "session_end" and stepper.logged[-1].status == "completed"
    assert stepper.said[-1] == "You finished 2 of 2 moves. Session over. Take care."


def test_pain_rating_times_out_and_the_guide_waits_for_next(small_routine):
    stepper = new_stepper(small_routine, pain_rating_timeout=10.0)
    reach(stepper, "pain_rating")
    stepper.step()  # the timeout
    assert stepper.session.phase is Phase.PAIN_REST
    assert stepper.session.deadline is None and stepper.session.awaiting is None  # it waits
    stepper.say("next")
    stepper.until(lambda s: s.finished)
    summary = stepper.logged[-1].summary
    assert summary == "You finished 1 of 2 moves. Pain during the lift, rep 1."


def test_a_number_is_wanted_only_until_the_pain_is_rated(small_routine):
    stepper = new_stepper(small_routine, pain_rating_timeout=10.0)
    assert not stepper.session.wants_number
    reach(stepper, "pain_rating")
    assert stepper.session.wants_number
    stepper.step()  # the timeout: a late answer still counts
    assert stepper.session.phase is Phase.PAIN_REST and stepper.session.wants_number
    stepper.say("four")
    assert stepper.session.phase is Phase.PAIN_REST and not stepper.session.wants_number
    stepper.say("next")
    assert not stepper.session.wants_number


def test_input_ending_while_waiting_ends_the_session_incomplete(small_routine):
    stepper = reach(new_stepper(small_routine), "pain_rest")
    stepper.apply(stepper.session.handle(InputEnded(), stepper.now + 1))
    assert stepper.session.finished
    assert stepper.logged[-1].type == "session_end" and stepper.logged[-1].status == "incomplete"


def test_input_ending_while_running_lets_the_routine_finish(small_routine):
    stepper = new_stepper(small_routine)
    stepper.apply(stepper.session.handle(InputEnded(), 0.5))
    stepper.until(lambda s: s.finished)
    assert stepper.logged[-1].status == "completed"


def test_pain_then_back_retries_the_move_and_pain_stays_in_the_outcome(small_routine):
    stepper = reach(new_stepper(small_routine), "pain_rest")
    stepper.say("back")
    stepper.until(lambda s: s.finished)
    assert stepper.session.outcome("lift") == "pain"
    assert stepper.types().count("exercise_start") == 2  # lift again, then twist


def test_the_runner_listens_for_numbers_in_a_rating_and_while_the_guide_counts(small_routine, tmp_path):
    import io

    from voiceguide.commands import Command, CommandEvent
    from voiceguide.inputs import ScriptSource
    from voiceguide.journal import Journal
    from voiceguide.runner import Runner
    from voiceguide.session import Session
    from voiceguide.speech.speaker import PrintSpeaker

    class Recorded(ScriptSource):
        def __init__(self, items: list[CommandEvent]) -> None:
            super().__init__(items)
            self.calls: list[tuple[float, bool]] = []

        def listen_for_numbers(self, on: bool) -> None:
            self.calls.append((self.now(), on))

    out = io.StringIO()
    source = Recorded([CommandEvent(Command.PAIN, "pain", 1.0, 60.0, 60.0),
                       CommandEvent(Command.NUMBER, "seven", 1.0, 65.0, 65.0, 7),
                       CommandEvent(Command.NEXT, "next", 1.0, 70.0, 70.0)])
    Runner(Session(small_routine), PrintSpeaker(out=out), Journal(tmp_path / "log.jsonl"), source).run()
    said = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert "one" in said and "How bad" in out.getvalue()  # it counted, and asked for a rating
    # Before the pain, on only while the guide says a number ("Rep 1 of 2.", a count); then on
    # until the rating; off while the guide waits for next.
    before = [on for at, on in source.calls if at < 60.0]
    assert True in before and False in before
    assert all(on for at, on in source.calls if 60.0 <= at < 65.0)
    assert not any(on for at, on in source.calls if 65.0 <= at < 70.0)


def test_a_device_that_is_lost_or_muted_is_named_and_coming_back_resumes_only_its_own_pause(small_routine):
    from voiceguide.commands import Command, CommandEvent, device_said
    from voiceguide.session import Heard
    from voiceguide.texts import TEXTS

    stepper = new_stepper(small_routine)
    reach(stepper, "counting")

    def device(command: Command, state: str, name: str = "microphone") -> None:
        stepper.now += 0.1
        event = CommandEvent(command, device_said(name, state), 1.0, stepper.now, stepper.now)
        stepper.apply(stepper.session.handle(Heard(event), stepper.now))

    said = TEXTS["en"]
    for lost, back in (("lost", "back"), ("muted", "unmuted")):
        device(Command.PAUSE, lost)
        # "Paused. Say resume when you are ready." would ask for what the guide cannot hear.
        assert stepper.session.phase is Phase.PAUSED and stepper.said[-1] == said[f"paused_{lost}"]
        device(Command.RESUME, back)
        assert stepper.session.phase is not Phase.PAUSED and said[f"resuming_{back}"] in stepper.said[-2:]
    # The person pauses; the microphone is then unplugged and plugged back in: still paused.
    stepper.say("pause")
    device(Command.PAUSE, "lost")
    device(Command.RESUME, "back")
    assert stepper.session.phase is Phase.PAUSED and stepper.said[-1] == said["paused"]
    stepper.say("resume")
    assert stepper.session.phase is not Phase.PAUSED and stepper.said[-2] == said["resuming"]
    # The loudspeaker: the person cannot hear the guide. Its return does not undo the
    # microphone's pause, nor the microphone's the loudspeaker's.
    device(Command.PAUSE, "silent", "loudspeaker")
    assert stepper.session.phase is Phase.PAUSED and stepper.said[-1] == said["paused_silent"]
    device(Command.PAUSE, "lost")
    device(Command.RESUME, "back")
    assert stepper.session.phase is Phase.PAUSED
    device(Command.RESUME, "sounding", "loudspeaker")
    assert stepper.session.phase is not Phase.PAUSED and said["resuming_sounding"] in stepper.said[-2:]
    device(Command.PAUSE, "lost")
    device(Command.RESUME, "sounding", "loudspeaker")
    assert stepper.session.phase is Phase.PAUSED and stepper.said[-1] == said["paused_lost"]


@pytest.mark.parametrize("phase", ["pain_rating", "pain_rest"])
def test_a_device_lost_and_back_after_a_pain_leaves_the_person_where_they_were(small_routine, phase):
    """The person's "resume" there means "go on to the next move"; a device coming back must not
    say it for them."""
    from voiceguide.commands import Command, CommandEvent, device_said
    from voiceguide.session import Heard

    stepper = reach(new_stepper(small_routine), phase)
    said = list(stepper.said)
    for name, lost, back in (("microphone", "lost", "back"), ("loudspeaker", "silent", "sounding")):
        for command, state in ((Command.PAUSE, lost), (Command.RESUME, back)):
            stepper.now += 0.1
            event = CommandEvent(command, device_said(name, state), 1.0, stepper.now, stepper.now)
            stepper.apply(stepper.session.handle(Heard(event), stepper.now))
    assert stepper.session.phase.value == phase and stepper.said == said
