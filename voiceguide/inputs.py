"""Command sources for the runner: timed scripts and the keyboard.

Protocol: poll(until) returns the next CommandEvent heard no later than `until` (session
seconds; None: whenever it comes), Trouble with the sound itself (for the log, and maybe
for the guide to say), None when there is none by then, or END_OF_INPUT.
Virtual sources (script, WAV) never wait; real ones block until `until` on the real clock.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from voiceguide.clock import RealClock, VirtualClock
from voiceguide.commands import Command, CommandEvent, parse
from voiceguide.yamlfile import FileError


@dataclass(frozen=True)
class Trouble:
    """Something wrong with the sound itself (a device, not the person): `message` is for the
    log and the terminal; `say`, if any, names what the guide says of it (a key of texts.TEXTS),
    since the person on the mat sees no terminal."""

    t: float
    message: str
    say: str | None = None


class _End:
    def __repr__(self) -> str:
        return "END_OF_INPUT"


END_OF_INPUT = _End()
Polled = CommandEvent | Trouble | None | _End


class CommandSource(Protocol):
    def poll(self, until: float | None) -> Polled: ...

    def now(self) -> float: ...

    def close(self) -> None: ...

    def listen_for_numbers(self, on: bool) -> None: ...  # whether a 0-10 answer is wanted now (a hint)


class ScriptError(FileError):
    pass


def read_script(path: Path, language: str = "en") -> list[CommandEvent]:
    """Lines `SECONDS WORDS` (seconds since session start); `#` starts a comment."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ScriptError(path, None, "script file not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(path, None, f"cannot read it ({exc}).") from None
    items: list[CommandEvent] = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        head, _, words = text.partition(" ")
        try:
            seconds = float(head)
        except ValueError:
            seconds = -1.0
        if seconds < 0 or not words.strip():
            raise ScriptError(path, number, f"{line.strip()!r} is not `SECONDS WORDS`.",
                              "write e.g. `12.5 pain`: seconds since the start, then what is said.")
        parsed = parse(words, language)
        if parsed is None:
            raise ScriptError(path, number, f"{words.strip()!r} is not a command.",
                              f"use one of: {', '.join(c.value for c in Command if c is not Command.NUMBER)}"
                              ", or a number 0-10.")
        command, value = parsed
        items.append(CommandEvent(command, words.strip(), 1.0, seconds, seconds, value))
    return sorted(items, key=lambda c: c.emitted_at)


class ScriptSource:
    """Timed commands from a script file, on a virtual clock."""

    def __init__(self, items: list[CommandEvent]) -> None:
        self.items = list(items)
        self.clock = VirtualClock()

    def poll(self, until: float | None) -> Polled:
        if not self.items:
            return END_OF_INPUT
        if until is not None and self.items[0].emitted_at > until:
            self.clock.advance(until)
            return None
        item = self.items.pop(0)
        self.clock.advance(item.emitted_at)
        return item

    def now(self) -> float:
        return self.clock.now()

    def close(self) -> None:
        pass

    def listen_for_numbers(self, on: bool) -> None:
        pass  # what was said is known already


class LiveSource:
    """Commands put on a queue by another thread, on the real clock."""

    def __init__(self) -> None:
        self.clock = RealClock()
        self.queue: queue.Queue[CommandEvent | Trouble | _End] = queue.Queue()

    def poll(self, until: float | None) -> Polled:
        timeout = None if until is None else max(0.0, until - self.clock.now())
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def now(self) -> float:
        return self.clock.now()

    def close(self) -> None:
        pass

    def listen_for_numbers(self, on: bool) -> None:
        pass  # typed commands are read whole


class KeyboardSource(LiveSource):
    """Typed lines from stdin, one command per line."""

    def __init__(self, language: str = "en", stream: TextIO = sys.stdin, err: TextIO = sys.stderr) -> None:
        super().__init__()
        self.language = language
        self.err = err
        threading.Thread(target=self._read, args=(stream,), daemon=True, name="keyboard").start()

    def _read(self, stream: TextIO) -> None:
        for line in stream:
            if not line.strip():
                continue
            parsed = parse(line, self.language)
            if parsed is None:
                print(f"voiceguide: {line.strip()!r} is not a command; type help.", file=self.err)
                continue
            now = self.clock.now()
            self.queue.put(CommandEvent(parsed[0], line.strip(), 1.0, now, now, parsed[1]))
        self.queue.put(END_OF_INPUT)
