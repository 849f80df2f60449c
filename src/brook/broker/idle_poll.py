"""Idle polling: after the work of a read (or a delayed response), the event loop keeps polling its sockets (a
zero-timeout poll each turn) for a short window before it lets the thread sleep, as Seastar's reactor does (Redpanda:
idle-poll-time-us, 200 us by default).

Why: a thread that sleeps lets its CPU go idle, and a virtual CPU that goes idle halts (a VM exit: on this kind of
machine the guest's cpuidle driver polls for 0 ns before it halts). The next request then runs on cold caches and
predictors: one 100 B produce costs the broker 50-67 us of Python after 50 us of sleep against 38 us after 50 us of
polling (`benchmarks/request_cost.py` and its `--gap-polled`). A synchronous client (one request in flight, as
a producer that flushes each message) sends its next request within some 150 us of its answer, so every one of its
requests paid that.

The cost is CPU time while the broker would otherwise sleep, so it is bounded and gives way: at most `window` after the
last request, and not at all for a while after the poller finds it was preempted (another thread wanted this CPU: a busy
machine, where polling would take a core from the clients), or after its windows mostly ended with no request in them
(clients at a steady rate whose gaps are longer than the window, where polling spins for nothing: a producer at 860
messages a second cost 330-344 us of broker CPU a message with it, 134-148 without; benchmarks/idle_poll_cost.py). A
window of 0 turns it off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

_PREEMPTED_S = 50e-6  # off-CPU for this long between two turns: the scheduler gave the CPU to someone else
_BACK_OFF_S = 0.05  # then no polling for this long
# Whether polling pays: a request that arrives while the loop polls earns credit, a window that passes without one
# costs twice that; out of credit, the poller backs off (and starts again with full credit). So it keeps polling
# while at least two requests in three arrive within the window.
_CREDIT = 8
_MISS_COST = 2


class IdlePoller:
    def __init__(self, window_us: int, monotonic: Callable[[], float] = time.monotonic,
                 thread_time: Callable[[], float] = time.thread_time,
                 call_soon: Callable[[Callable[[], None]], object] | None = None) -> None:
        self._window = window_us / 1e6
        self._monotonic = monotonic
        self._thread_time = thread_time
        self._call_soon = call_soon  # how the next turn is scheduled: the running loop's call_soon by default
        self._deadline = 0.0
        self._paused_until = 0.0
        self._running = False
        self._credit = _CREDIT
        self._wall = 0.0  # at the last turn: wall clock and this thread's CPU clock
        self._cpu = 0.0

    @property
    def polling(self) -> bool:
        return self._running

    def poke(self) -> None:
        """A read's work is done: poll until `window` from now (called once per data_received: kept cheap)."""
        if self._running and self._credit < _CREDIT:  # this request came while the loop polled: polling paid
            self._credit += 1
        self.answered()

    def answered(self) -> None:
        """Poll until `window` from now; by itself (a delayed answer went out: a long-polling fetch, an acks=all
        produce) for that client's next request, earning no credit (no request came)."""
        if not self._window:
            return
        now = self._monotonic()
        self._deadline = now + self._window
        if not self._running and now >= self._paused_until:
            self._start(now)

    def _start(self, now: float) -> None:
        self._running = True
        self._wall, self._cpu = now, self._thread_time()
        self._next_turn()

    def _next_turn(self) -> None:
        if self._call_soon is None:
            asyncio.get_running_loop().call_soon(self._turn)
        else:
            self._call_soon(self._turn)

    def _turn(self) -> None:
        now, cpu = self._monotonic(), self._thread_time()
        if (now - self._wall) - (cpu - self._cpu) > _PREEMPTED_S:
            self._running = False
            self._paused_until = now + _BACK_OFF_S
            return
        self._wall, self._cpu = now, cpu
        if now < self._deadline:
            self._next_turn()
            return
        self._running = False  # the window passed with no request in it
        self._credit -= _MISS_COST
        if self._credit < 0:
            self._credit = _CREDIT
            self._paused_until = now + _BACK_OFF_S
