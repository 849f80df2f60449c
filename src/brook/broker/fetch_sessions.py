"""Fetch sessions (KIP-227): the broker remembers a client's partitions so incremental fetches only name
what changed, and responses only carry partitions with news."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field

INVALID_SESSION_ID = 0
INITIAL_EPOCH = 0
FINAL_EPOCH = -1
MAX_SESSIONS = 1000  # max.incremental.fetch.session.cache.slots


@dataclass(slots=True)
class SessionPartition:
    fetch_offset: int
    max_bytes: int
    current_leader_epoch: int = -1  # as the client last sent them (Kafka's CachedPartition keeps both)
    last_fetched_epoch: int = -1
    # What the last response told the client; a partition with no news is left out of the next one.
    high_watermark: int = -1
    log_start_offset: int = -1


@dataclass
class FetchSession:
    session_id: int
    epoch: int  # the epoch the next request must carry
    partitions: OrderedDict[tuple[str, int], SessionPartition] = field(default_factory=OrderedDict)


class FetchSessionCache:
    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.sessions: OrderedDict[int, FetchSession] = OrderedDict()
        self.max_sessions = max_sessions
        self._ids = itertools.count(1)

    def create(self) -> FetchSession:
        while len(self.sessions) >= self.max_sessions:
            self.sessions.popitem(last=False)  # evict the least recently used
        sid = next(self._ids) & 0x7FFFFFFF or next(self._ids)
        session = FetchSession(sid, 1)
        self.sessions[sid] = session
        return session

    def get(self, session_id: int) -> FetchSession | None:
        session = self.sessions.get(session_id)
        if session is not None:
            self.sessions.move_to_end(session_id)
        return session

    def remove(self, session_id: int) -> None:
        self.sessions.pop(session_id, None)
