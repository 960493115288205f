"""Glue between a command source, the session, the speaker and the journal.

One control loop on the main thread. Things that happen at a known session time (an utterance
ending, the session's own deadline) are kept in a time-ordered queue;
between them the loop polls the command source, which either waits on the real clock or, for
virtual sources, returns at once. So the same loop runs live or as fast as the CPU allows.
"""

from __future__ import annotations

import heapq
import itertools
import sys
from dataclasses import dataclass, field

from voiceguide.commands import Command, CommandEvent, device_said, says_number
from voiceguide.events import Notice
from voiceguide.inputs import END_OF_INPUT, CommandSource, Trouble
from voiceguide.journal import Journal
from voiceguide.session import (
    Action,
    Heard,
    InputEnded,
    Log,
    Say,
    Session,
    SessionInput,
    SpeechDone,
    Start,
    StopSpeaking,
    Tick,
    Told,
)
from voiceguide.speech.echo import Spoken, own_words
from voiceguide.speech.speaker import Speaker


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    utterance: int = field(compare=False)  # ends at `at`


class Runner:
    # Seconds between looks for a lost loudspeaker while the session waits for it. The speaker
    # itself decides how often it really searches (LiveSpeaker.RETRY); this only wakes the loop,
    # which otherwise sleeps until something is said.
    SPEAKER_CHECK = 1.0

    def __init__(self, session: Session, speaker: Speaker, journal: Journal, source: CommandSource,
                 echo_threshold: float = 0.85) -> None:
        self.session = session
        self.echo_threshold = echo_threshold
        self.spoken: list[Spoken] = []  # what the guide said and when, to know its own echo
        self.speaker = speaker
        self.journal = journal
        self.source = source
        self._due: list[_Due] = []
        self._seq = itertools.count()
        self._waiting: list[Say] = []  # said while the speaker is busy; start in order
        self._speaking: int | None = None  # utterance being spoken
        self._silent = False  # the loudspeaker is lost (see _check_speaker)
        self.now = 0.0

    # --- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self._handle(Start(), 0.0)
            ended = False
            while not self.session.finished:
                self._check_speaker()
                due = self._next_due()
                if ended:
                    if due is None:  # nothing can happen any more; cannot occur by design
                        break
                    self._advance(due)
                    continue
                if self._silent:
                    due = min(due, self.now + self.SPEAKER_CHECK) if due is not None else self.now + self.SPEAKER_CHECK
                item = self.source.poll(due)
                if item is END_OF_INPUT:
                    ended = True
                    t = max(self.now, self.source.now())
                    self._advance(t)
                    self._handle(InputEnded(), t)
                elif item is None:
                    if due is not None:
                        self._advance(max(due, self.source.now()))
                elif isinstance(item, Trouble):
                    self._advance(item.t)
                    self._note(self.now, item.message)
                    if item.say:
                        self._handle(Told(item.say), self.now)
                elif isinstance(item, CommandEvent):
                    self._advance(item.emitted_at)
                    if own_words(item, self.spoken[-4:], self.echo_threshold):
                        self.journal.write(Notice(self.now, f"ignored {item.text!r}: the guide itself was saying it"))
                        continue
                    self._handle(Heard(item), max(self.now, item.emitted_at))
        except KeyboardInterrupt:
            t = self.source.now()
            self._handle(Heard(CommandEvent(Command.STOP, "(interrupted)", 1.0, t, t)), t)
            self.speaker.stop(t)
        finally:
            self.source.close()
            self.speaker.close()
            self.journal.close()

    def _check_speaker(self) -> None:
        """Pause while the person cannot hear the guide, and go on once they can: a device's
        own pause and resume, as for a lost microphone (see Session). The pause is asked for
        again whenever the session would go on unheard: resumed by a microphone that came back
        first (a USB speakerphone is both), or moved on from a rest by the person."""
        present = self.speaker.present(self.now)  # a lost loudspeaker is looked for here
        self._note_troubles(self.now)
        t = self.now
        if not present:
            self._silent = True
            if self.session.pausable:
                self._handle(Heard(CommandEvent(Command.PAUSE, device_said("loudspeaker", "silent"), 1.0, t, t)), t)
        elif self._silent:
            self._silent = False
            self._handle(Heard(CommandEvent(Command.RESUME, device_said("loudspeaker", "sounding"), 1.0, t, t)), t)
        self._note_troubles(t)

    def _note_troubles(self, t: float) -> None:
        for message in self.speaker.troubles():
            self._note(t, message)

    def _note(self, t: float, message: str) -> None:
        """Trouble with the equipment: in the log, and on the terminal for whoever is there."""
        self.journal.write(Notice(t, message))
        print(f"voiceguide: {message}", file=sys.stderr, flush=True)

    def _next_due(self) -> float | None:
        times = [d for d in (self.session.deadline, self._due[0].at if self._due else None) if d is not None]
        return min(times) if times else None

    def _advance(self, until: float) -> None:
        """Handle everything due up to `until`, in time order."""
        while (due := self._next_due()) is not None and due <= until:
            self.now = max(self.now, due)
            if self._due and self._due[0].at <= due:
                item = heapq.heappop(self._due)
                self._speaking = None
                self._start_waiting(item.at)
                self._handle(SpeechDone(item.utterance), item.at)
            else:
                self._handle(Tick(), due)
        self.now = max(self.now, until)

    # --- performing actions --------------------------------------------------------------
    def _handle(self, event: SessionInput, now: float) -> None:
        self.now = max(self.now, now)
        self._perform(self.session.handle(event, self.now))
        self._listen_for_numbers()

    def _listen_for_numbers(self) -> None:
        """Numbers are listened for during a pain rating, and while the guide says one: the
        microphone hears its counting, and with no numbers to match, the echo of "two" could be
        forced onto a command such as "ow"."""
        counting = self._speaking is not None and says_number(self.spoken[-1].text, self.session.routine.language)
        self.source.listen_for_numbers(self.session.wants_number or counting)

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Log):
                self.journal.write(action.event)
            elif isinstance(action, StopSpeaking):
                self.speaker.stop(self.now)
                if self.spoken and self.spoken[-1].end > self.now:
                    self.spoken[-1] = Spoken(self.spoken[-1].start, self.now, self.spoken[-1].text)
                self._waiting.clear()
                self._due.clear()
                self._speaking = None
            elif isinstance(action, Say):
                self._waiting.append(action)
                if self._speaking is None:
                    self._start_waiting(self.now)

    def _start_waiting(self, at: float) -> None:
        if self._speaking is not None or not self._waiting:
            return
        say = self._waiting.pop(0)
        seconds = self.speaker.say(say.text, at)
        self._note_troubles(at)
        self.spoken = [*self.spoken[-7:], Spoken(at, at + seconds, say.text)]
        self._speaking = say.utterance
        self._listen_for_numbers()
        heapq.heappush(self._due, _Due(at + seconds, next(self._seq), say.utterance))
