"""A broker's endpoints as the cluster's registrations name them and Metadata lists them; apart from
registration.py (and kazoo), which a single broker does not load."""

from __future__ import annotations

from typing import NamedTuple


class BrokerEndpoint(NamedTuple):
    """A live broker as Metadata and DescribeCluster list it: its first advertised endpoint, and every one by
    listener name (Kafka answers each client with the endpoints of the listener it connected on)."""

    broker_id: int
    host: str
    port: int
    rack: str | None
    listeners: tuple[tuple[str, str, int], ...] = ()  # (listener name, host, port)

    def on(self, listener: str) -> BrokerEndpoint | None:
        """This broker's endpoint on `listener` (None: it has no such listener); without a list, the first."""
        if not self.listeners:
            return self
        return next((self._replace(host=h, port=p) for n, h, p in self.listeners if n == listener), None)


class Endpoint(NamedTuple):
    listener: str  # listener name (PLAINTEXT)
    host: str
    port: int
    protocol: str  # security protocol (PLAINTEXT)
