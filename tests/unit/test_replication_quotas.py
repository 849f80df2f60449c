"""The throttled-replica lists of kafka-reassign-partitions --throttle, read as Kafka's TopicConfigHandler reads
them, and the rate window the replication quotas share with the client quotas."""

from brook.broker.quotas import Rate
from brook.broker.replication_quotas import throttled_partitions


def test_throttled_partitions_name_this_broker_or_all():
    assert throttled_partitions("0:1,1:2,2:1", 1) == {0, 2}
    assert throttled_partitions(" 0:1 , 3:1 ", 1) == {0, 3}
    assert throttled_partitions("0:2", 1) == frozenset()
    assert throttled_partitions("*", 1) is None  # every partition
    assert throttled_partitions("", 1) == frozenset()


def test_a_rate_over_two_one_second_windows():
    rate = Rate(samples=2, window_ms=1000)
    rate.record(16384, 0)
    assert rate.per_second(500) == 16384 / 1.5  # Rate.windowSize: the elapsed time plus one full window
    rate.record(16384, 1500)  # the second window
    assert rate.per_second(1500) == 32768 / 1.5
    assert rate.per_second(4000) == 0  # both samples obsolete after 2 windows
