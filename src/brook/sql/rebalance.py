"""Several servers sharing a `ksql.service.id` run each persistent query in one consumer group, so its partitions
(Kafka Streams' tasks: one partition number of every input topic) move between servers as they join and leave.
As Kafka Streams does on a rebalance: a task given up commits what it processed, and a task taken over first reads
what the other server wrote to its changelog partitions, so that its stores are current before it processes; the
other servers' partitions are followed as standby replicas."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brook.sql.stores import Stores


def process_id(app_dir: Path) -> str:
    """Kafka Streams' process id, kept in the state directory (`kafka-streams-process-metadata`): a restarted
    server keeps its transactional ids (and so fences its own dead transactions), two servers never share one."""
    path = app_dir / "kafka-streams-process-metadata"
    try:
        return str(json.loads(path.read_text())["processId"])
    except (OSError, ValueError, KeyError):
        pid = str(uuid.uuid4())
        app_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"processId": pid}))
        return pid


class Rebalance:
    def __init__(self, stores: Stores, consumer_conf: dict, stop: threading.Event,
                 commit: Callable[[], None], groups: Any, interval: float) -> None:
        self.stores, self.consumer_conf, self.stop = stores, consumer_conf, stop
        self.commit, self.groups = commit, groups
        self.owned: set[int] = set()  # the partitions of the last assignment
        self.interval, self.next_standby = interval, time.monotonic() + interval

    def standbys(self) -> None:
        """The partitions other servers process are kept current here from their changelogs, every commit
        interval (Kafka Streams' standby replicas), so that pull queries on any server see every partition."""
        now = time.monotonic()
        if now < self.next_standby:
            return
        self.next_standby = now + self.interval
        others = {p for _, p in self.stores.positions} - self.owned
        if others and self.owned:
            self.stores.catch_up(self.consumer_conf, others, self.stop, timeout=5.0)

    def assigned(self, _consumer: Any, partitions: list) -> None:
        now = {tp.partition for tp in partitions}
        self.stores.catch_up(self.consumer_conf, now - self.owned, self.stop)
        self.owned = now

    def revoked(self, _consumer: Any, partitions: list) -> None:
        """Every partition is revoked on a rebalance (the eager protocol); those assigned again are kept."""
        self.commit()
        if self.groups is not None:  # buffered records of a task given up are the next owner's to process
            for tp in partitions:
                self.groups.queues.pop(tp.partition, None)
                self.groups.waiting.pop(tp.partition, None)
                self.groups.held.pop(tp.partition, None)
