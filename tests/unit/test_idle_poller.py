"""The idle poller (broker/idle_poll.py) against a clock the test moves: it keeps polling for a client whose requests
come within the window, stops after one whose requests mostly come after it, and gives way when preempted."""

from __future__ import annotations

import asyncio

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


async def turns(poller: IdlePoller, clock: Clock, us: float) -> None:
    """Let the loop poll for us microseconds, one turn every 5 us."""
    for _ in range(int(us // 5)):
        clock.spin(5)
        await asyncio.sleep(0)


def run(scenario) -> None:  # noqa: ANN001
    asyncio.run(scenario())


def test_a_synchronous_client_keeps_it_polling() -> None:
    async def scenario() -> None:
        clock = Clock()
        poller = IdlePoller(WINDOW_US, lambda: clock.wall, lambda: clock.cpu)
        for _ in range(200):  # each next request 120 us after the last: inside the window
            poller.poke()
            await turns(poller, clock, 120)
            assert poller.polling
        await turns(poller, clock, 300)  # the client stops: the window ends, the loop sleeps
        assert not poller.polling

    run(scenario)


@pytest.mark.parametrize("event", ["poke", "answered"])
def test_windows_that_pass_empty_stop_it(event: str) -> None:
    """A read at a steady 2,000 requests a second, or a delayed answer (a long-polling fetch) that earns no credit,
    each followed by nothing for longer than the window: four empty windows use up the credit, then it backs off."""
    async def scenario() -> None:
        clock = Clock()
        poller = IdlePoller(WINDOW_US, lambda: clock.wall, lambda: clock.cpu)
        started = 0
        for _ in range(40):
            getattr(poller, event)()
            started += poller.polling
            await turns(poller, clock, 250)
            clock.wall += 250e-6  # the rest of the 500 us gap, asleep
        assert started == 5 and not poller.polling

    run(scenario)


def test_half_its_windows_empty_is_not_enough_to_keep_polling() -> None:
    async def scenario() -> None:
        clock = Clock()
        poller = IdlePoller(WINDOW_US, lambda: clock.wall, lambda: clock.cpu)
        polled = []
        for _ in range(30):  # a produce, its consumer's fetch 100 us later (a hit), then 400 us of nothing
            poller.poke()
            polled.append(poller.polling)
            poller.answered()  # the consumer's waiting fetch answered: no request came, no credit
            await turns(poller, clock, 100)
            poller.poke()
            await turns(poller, clock, 250)
            clock.wall += 150e-6  # asleep
        assert all(polled[:8]) and not any(polled[9:30])  # one credit lost a message: off after eight

    run(scenario)


def test_a_preempted_poller_backs_off() -> None:
    async def scenario() -> None:
        clock = Clock()
        poller = IdlePoller(WINDOW_US, lambda: clock.wall, lambda: clock.cpu)
        poller.poke()
        await turns(poller, clock, 20)
        assert poller.polling
        clock.preempted(100)  # another thread had the CPU
        await asyncio.sleep(0)
        assert not poller.polling
        poller.poke()
        assert not poller.polling  # backed off for a while
        clock.wall += 0.06
        poller.poke()
        assert poller.polling

    run(scenario)


def test_a_zero_window_never_polls() -> None:
    async def scenario() -> None:
        poller = IdlePoller(0)
        poller.poke()
        assert not poller.polling

    run(scenario)
