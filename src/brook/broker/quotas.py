"""Client bandwidth quotas (producer_byte_rate, consumer_byte_rate) enforced as Kafka's ClientQuotaManager does:
a rate over `quota.window.num` (11) windows of `quota.window.size.seconds` (1 s) per quota entity, and, when a
request takes the rate over the bound, the time needed to bring it back (QuotaUtils.throttleTime). The broker
puts that time in the response's throttle_time_ms and mutes the connection for it (KIP-219).

The user of an entity is the connection's principal name (User:alice -> alice; ANONYMOUS without SASL or a
client certificate), as in Kafka. Nothing is recorded until a quota of the type exists (Kafka's quotasEnabled)."""

from __future__ import annotations

from collections.abc import Mapping

from brook.config.quota import CLIENT_ID, USER
from brook.metadata import ClientQuotaChanged, MetadataStore, QuotaEntity

PRODUCE, FETCH = "producer_byte_rate", "consumer_byte_rate"
SAMPLES, WINDOW_MS = 11, 1000


class Rate:
    """org.apache.kafka.common.metrics.stats.Rate over a SampledTotal: [window start ms, total] samples."""

    def __init__(self, samples: int = SAMPLES, window_ms: int = WINDOW_MS) -> None:
        self.samples: list[list[float]] = []
        self.current = 0
        self.num = samples
        self.window = window_ms

    def record(self, value: float, now_ms: int) -> None:
        if not self.samples:
            self.samples.append([now_ms, 0.0])
        sample = self.samples[self.current]
        if now_ms - sample[0] >= self.window:  # complete: advance to the next sample, reusing the oldest
            self.current = (self.current + 1) % self.num
            if self.current >= len(self.samples):
                self.samples.append([now_ms, 0.0])
            else:
                self.samples[self.current][:] = [now_ms, 0.0]
            sample = self.samples[self.current]
        sample[1] += value

    def window_ms(self, now_ms: int) -> int:
        """Rate.windowSize: the time the samples span, never less than SAMPLES - 1 full windows."""
        elapsed = now_ms - min(s[0] for s in self.samples)
        full = elapsed // self.window
        if full < self.num - 1:
            elapsed += (self.num - 1 - full) * self.window
        return int(elapsed)

    def per_second(self, now_ms: int) -> float:
        if not self.samples:
            return 0.0
        for s in self.samples:  # purgeObsoleteSamples
            if now_ms - s[0] >= self.num * self.window:
                s[:] = [now_ms, 0.0]
        return sum(s[1] for s in self.samples) / (self.window_ms(now_ms) / 1000)


class ClientQuotas:
    def __init__(self, stored: Mapping[QuotaEntity, Mapping[str, float]]) -> None:
        self.stored = stored  # a live read-only view: entity -> {key: value}
        self.rates: dict[tuple[str, str, str], Rate] = {}
        self.refresh()

    @classmethod
    def following(cls, store: MetadataStore) -> ClientQuotas:
        """Quotas over the store's, refreshed on each change."""
        quotas = cls(store.client_quotas)
        store.subscribe(ClientQuotaChanged, lambda _: quotas.refresh())
        return quotas

    def refresh(self) -> None:
        """On a quota change: which quota types are set at all (the fast path when none is)."""
        self.enabled = {key for values in self.stored.values() for key in values}

    def _bound(self, quota: str, user: str, client_id: str) -> tuple[tuple[str, str], float] | None:
        """(metric tags, bound): the most specific entity with this quota, in Kafka's order
        (DefaultQuotaCallback.quotaMetricTags / quotaLimit)."""
        candidates: tuple[tuple[QuotaEntity, tuple[str, str]], ...] = (  # entities sorted by type, as stored
            (((CLIENT_ID, client_id), (USER, user)), (user, client_id)),
            (((CLIENT_ID, None), (USER, user)), (user, client_id)),
            (((USER, user),), (user, "")),
            (((CLIENT_ID, client_id), (USER, None)), (user, client_id)),
            (((CLIENT_ID, None), (USER, None)), (user, client_id)),
            (((USER, None),), (user, "")),
            (((CLIENT_ID, client_id),), ("", client_id)),
            (((CLIENT_ID, None),), ("", client_id)))
        for entity, tags in candidates:
            bound = self.stored.get(entity, {}).get(quota)
            if bound is not None:
                return tags, bound
        return None

    def record(self, quota: str, principal: str, client_id: str | None, value: float, now_ms: int) -> int:
        """Record `value` bytes and return the throttle time in ms (0 within the quota)."""
        if quota not in self.enabled:
            return 0
        found = self._bound(quota, principal.partition(":")[2], client_id or "")
        if found is None:
            return 0
        tags, bound = found
        rate = self.rates.setdefault((quota, *tags), Rate())
        rate.record(value, now_ms)
        observed = rate.per_second(now_ms)
        if observed <= bound:
            return 0
        return round((observed - bound) / bound * rate.window_ms(now_ms)) if bound > 0 else 2**31 - 1

    def unrecord(self, quota: str, principal: str, client_id: str | None, value: float, now_ms: int) -> None:
        """A throttled fetch returns no data: take its bytes back out (ClientQuotaManager.unrecordQuotaSensor)."""
        found = self._bound(quota, principal.partition(":")[2], client_id or "")
        if found is not None:
            self.rates[(quota, *found[0])].record(-value, now_ms)
