"""Client quota arithmetic (Kafka's Rate / QuotaUtils / DefaultQuotaCallback) and the Java formatting
kafka-configs prints quotas with (Double.toString, HashMap order)."""

from __future__ import annotations

from brook.broker.quotas import PRODUCE, ClientQuotas, Rate
from brook.cli.java_collections import double_str, hash_order, map_hash, string_hash


def test_rate_window_is_at_least_ten_full_windows_and_old_samples_expire() -> None:
    rate = Rate()
    rate.record(10_000, 0)
    assert rate.window_ms(0) == 10_000 and rate.per_second(0) == 1000.0
    rate.record(10_000, 9_500)  # a new sample; the span is 9 full windows, counted as 10 (and the part)
    assert rate.window_ms(9_500) == 10_500
    assert rate.per_second(9_500) == 20_000 / 10.5
    assert rate.per_second(12_500) == 10_000 / 10  # the first sample is 11 windows old: reset (purged)
    assert rate.per_second(9_500 + 11_000) == 0.0


def test_throttle_time_brings_the_rate_back_to_the_bound() -> None:
    quotas = ClientQuotas({(("client-id", "c"),): {PRODUCE: 1000.0}})
    assert quotas.record(PRODUCE, "User:ANONYMOUS", "c", 10_000, 0) == 0  # exactly the bound over 10 s
    # (O - T) / T * W: O = 15000 B / 10 s
    assert quotas.record(PRODUCE, "User:ANONYMOUS", "c", 5_000, 0) == 5_000
    assert quotas.record(PRODUCE, "User:ANONYMOUS", "other", 1_000_000, 0) == 0  # no quota for this client id


def test_entity_precedence_for_the_anonymous_user() -> None:
    stored: dict = {(("client-id", None),): {PRODUCE: 1.0}}
    quotas = ClientQuotas(stored)
    assert quotas._bound(PRODUCE, "ANONYMOUS", "c") == (("", "c"), 1.0)
    stored[(("user", None),)] = {PRODUCE: 2.0}
    assert quotas._bound(PRODUCE, "ANONYMOUS", "c") == (("ANONYMOUS", ""), 2.0)
    stored[(("client-id", None), ("user", None))] = {PRODUCE: 3.0}
    assert quotas._bound(PRODUCE, "ANONYMOUS", "c") == (("ANONYMOUS", "c"), 3.0)
    stored[(("user", "ANONYMOUS"),)] = {PRODUCE: 4.0}
    assert quotas._bound(PRODUCE, "ANONYMOUS", "c") == (("ANONYMOUS", ""), 4.0)
    stored[(("client-id", "c"), ("user", "ANONYMOUS"))] = {PRODUCE: 5.0}
    assert quotas._bound(PRODUCE, "ANONYMOUS", "c") == (("ANONYMOUS", "c"), 5.0)
    quotas.refresh()
    assert quotas.record("consumer_byte_rate", "User:ANONYMOUS", "c", 1e9, 0) == 0  # no consumer quota anywhere


def test_java_double_and_hash_map_order() -> None:
    # Double.toString (java 17: jshell> 1e7 -> 1.0E7)
    assert [double_str(v) for v in (1024.0, 0.5, 1e7, 12345678.0, 1.5e-5, 2147483647.0)] == \
        ["1024.0", "0.5", "1.0E7", "1.2345678E7", "1.5E-5", "2.147483647E9"]
    # new HashMap<>(3) of the three quota keys prints {consumer_byte_rate, producer_byte_rate, request_percentage}
    keys = ["producer_byte_rate", "consumer_byte_rate", "request_percentage"]
    assert hash_order(keys, string_hash, initial_capacity=3) == [keys[1], keys[0], keys[2]]
    # AbstractMap.hashCode: sum of key ^ value hashes, a null value hashing to 0
    assert map_hash({"user": None}) == string_hash("user")
    assert map_hash({"user": "u", "client-id": "c"}) == \
        (string_hash("user") ^ string_hash("u")) + (string_hash("client-id") ^ string_hash("c"))
