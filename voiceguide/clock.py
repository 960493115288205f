"""Session clocks. Session time is seconds since the session started.

RealClock follows the wall; VirtualClock moves only when told (by audio consumed or script
timestamps), which lets a whole routine run as fast as the CPU allows.
"""

from __future__ import annotations

import time


class RealClock:
    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start


class VirtualClock:
    def __init__(self) -> None:
        self._now = 0.0

    def now(self) -> float:
        return self._now

    def advance(self, to: float) -> None:
        self._now = max(self._now, to)
