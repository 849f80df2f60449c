"""The idle poller (broker/idle_poll.py) against a clock and an event loop the test moves: it keeps polling for a
client whose requests come within the window, stops after one whose requests mostly come after it, and gives way
when preempted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from brook.broker.idle_poll import IdlePoller

WINDOW_US = 200


class Clock:
    """Wall and thread CPU time in seconds; the CPU clock follows the wall clock unless the thread is preempted."""

    def __init__(self) -> None:
        self.wall = 100.0
        self.cpu = 1.0

    def spin(self, us: float) -> None:  # the loop ran (polling) for us
        self.wall += us / 1e6
        self.cpu += us / 1e6

    def preempted(self, us: float) -> None:  # the thread was off the CPU for us
        self.wall += us / 1e6


class Loop:
    """The event loop as the poller sees it: the turn it scheduled runs when the test lets the loop go round."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.ready: list[Callable[[], None]] = []

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.ready.append(callback)

    def run_once(self) -> None:
        ready, self.ready = self.ready, []
        for callback in ready:
            callback()

    def go_round(self, us: float) -> None:
        """us microseconds of the loop, a turn every 5 us (whatever it scheduled runs)."""
        for _ in range(int(us // 5)):
            self.clock.spin(5)
            self.run_once()


def poller_and_loop() -> tuple[IdlePoller, Loop, Clock]:
    clock = Clock()
    loop = Loop(clock)
    return IdlePoller(WINDOW_US, lambda: clock.wall, lambda: clock.cpu, loop.call_soon), loop, clock


def test_a_synchronous_client_keeps_it_polling() -> None:
    poller, loop, _ = poller_and_loop()
    for _ in range(200):  # each next request 120 us after the last: inside the window
        poller.poke()
        loop.go_round(120)
        assert poller.polling
    loop.go_round(300)  # the client stops: the window ends, the loop sleeps
    assert not poller.polling


@pytest.mark.parametrize("event", ["poke", "answered"])
def test_windows_that_pass_empty_stop_it(event: str) -> None:
    """A read at a steady 2,000 requests a second, or a delayed answer (a long-polling fetch) that earns no credit,
    each followed by nothing for longer than the window: four empty windows use up the credit, then it backs off."""
    poller, loop, clock = poller_and_loop()
    started = 0
    for _ in range(40):
        getattr(poller, event)()
        started += poller.polling
        loop.go_round(250)
        clock.wall += 250e-6  # the rest of the 500 us gap, asleep
    assert started == 5 and not poller.polling


def test_half_its_windows_empty_is_not_enough_to_keep_polling() -> None:
    poller, loop, clock = poller_and_loop()
    polled = []
    for _ in range(30):  # a produce, its consumer's fetch 100 us later (a hit), then 400 us of nothing
        poller.poke()
        polled.append(poller.polling)
        poller.answered()  # the consumer's waiting fetch answered: no request came, no credit
        loop.go_round(100)
        poller.poke()
        loop.go_round(250)
        clock.wall += 150e-6  # asleep
    assert all(polled[:8]) and not any(polled[9:30])  # one credit lost a message: off after eight


def test_a_preempted_poller_backs_off() -> None:
    poller, loop, clock = poller_and_loop()
    poller.poke()
    loop.go_round(20)
    assert poller.polling
    clock.preempted(100)  # another thread had the CPU
    loop.run_once()
    assert not poller.polling
    poller.poke()
    assert not poller.polling  # backed off for a while
    clock.wall += 0.06
    poller.poke()
    assert poller.polling


def test_a_zero_window_never_polls() -> None:
    poller = IdlePoller(0, call_soon=lambda _: None)
    poller.poke()
    poller.answered()
    assert not poller.polling
