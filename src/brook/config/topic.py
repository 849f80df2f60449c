"""Topic-level configs (Kafka's TopicConfig / LogConfig), with their broker-level synonyms."""

from __future__ import annotations

from collections.abc import Mapping

from .definition import ConfigDef, ConfigKey, at_least, between, one_of

MAX_LONG = 2**63 - 1
TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
COMPRESSION_TYPES = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")

TOPIC_CONFIGS = ConfigDef().define(
    ConfigKey("cleanup.policy", "list", ["delete"], "Retention policy: delete and/or compact.",
              one_of("compact", "delete"), ("log.cleanup.policy",)),
    ConfigKey("compression.type", "string", "producer", "Final compression type for the topic.",
              one_of(*COMPRESSION_TYPES), ("compression.type",)),
    ConfigKey("compression.gzip.level", "int", -1, "", None, ("compression.gzip.level",)),
    ConfigKey("compression.lz4.level", "int", 9, "", between(1, 17), ("compression.lz4.level",)),
    ConfigKey("compression.zstd.level", "int", 3, "", between(-131072, 22), ("compression.zstd.level",)),
    ConfigKey("delete.retention.ms", "long", 86400000, "How long tombstones are kept.", at_least(0),
              ("log.cleaner.delete.retention.ms",)),
    ConfigKey("file.delete.delay.ms", "long", 60000, "", at_least(0), ("log.segment.delete.delay.ms",)),
    ConfigKey("flush.messages", "long", MAX_LONG, "Messages written before an fsync.", at_least(1),
              ("log.flush.interval.messages",)),
    ConfigKey("flush.ms", "long", MAX_LONG, "Milliseconds between fsyncs.", at_least(0),
              ("log.flush.interval.ms",)),
    ConfigKey("follower.replication.throttled.replicas", "list", [], "", None,
              ("follower.replication.throttled.replicas",)),
    ConfigKey("index.interval.bytes", "int", 4096, "Bytes between offset index entries.", at_least(0),
              ("log.index.interval.bytes",)),
    ConfigKey("leader.replication.throttled.replicas", "list", [], "", None,
              ("leader.replication.throttled.replicas",)),
    ConfigKey("local.retention.bytes", "long", -2, "", at_least(-2), ("log.local.retention.bytes",)),
    ConfigKey("local.retention.ms", "long", -2, "", at_least(-2), ("log.local.retention.ms",)),
    ConfigKey("max.compaction.lag.ms", "long", MAX_LONG, "", at_least(1), ("log.cleaner.max.compaction.lag.ms",)),
    ConfigKey("max.message.bytes", "int", 1048588, "Largest record batch size allowed.", at_least(0),
              ("message.max.bytes",)),
    ConfigKey("message.downconversion.enable", "boolean", True, "", None,
              ("log.message.downconversion.enable",)),
    ConfigKey("message.format.version", "string", "3.0-IV1", "", None, ("log.message.format.version",)),
    ConfigKey("message.timestamp.after.max.ms", "long", MAX_LONG, "", at_least(0),
              ("log.message.timestamp.after.max.ms",)),
    ConfigKey("message.timestamp.before.max.ms", "long", MAX_LONG, "", at_least(0),
              ("log.message.timestamp.before.max.ms",)),
    ConfigKey("message.timestamp.difference.max.ms", "long", MAX_LONG, "", at_least(0),
              ("log.message.timestamp.difference.max.ms",)),
    ConfigKey("message.timestamp.type", "string", "CreateTime", "CreateTime or LogAppendTime.",
              one_of(*TIMESTAMP_TYPES), ("log.message.timestamp.type",)),
    ConfigKey("min.cleanable.dirty.ratio", "double", 0.5, "", between(0, 1), ("log.cleaner.min.cleanable.ratio",)),
    ConfigKey("min.compaction.lag.ms", "long", 0, "", at_least(0), ("log.cleaner.min.compaction.lag.ms",)),
    ConfigKey("min.insync.replicas", "int", 1, "", at_least(1), ("min.insync.replicas",)),
    ConfigKey("preallocate", "boolean", False, "", None, ("log.preallocate",)),
    ConfigKey("remote.storage.enable", "boolean", False, "", None, ()),
    ConfigKey("retention.bytes", "long", -1, "Size retention per partition; -1 is unlimited.", None,
              ("log.retention.bytes",)),
    ConfigKey("retention.ms", "long", 604800000, "Time retention; -1 is unlimited.", at_least(-1),
              ("log.retention.ms", "log.retention.minutes", "log.retention.hours")),
    ConfigKey("segment.bytes", "int", 1073741824, "Segment file size.", at_least(14), ("log.segment.bytes",)),
    ConfigKey("segment.index.bytes", "int", 10485760, "", at_least(4), ("log.index.size.max.bytes",)),
    ConfigKey("segment.jitter.ms", "long", 0, "", at_least(0), ("log.roll.jitter.ms", "log.roll.jitter.hours")),
    ConfigKey("segment.ms", "long", 604800000, "Time after which a segment rolls.", at_least(1),
              ("log.roll.ms", "log.roll.hours")),
    ConfigKey("unclean.leader.election.enable", "boolean", False, "", None,
              ("unclean.leader.election.enable",)),
)


def effective_topic_config(broker: object, overrides: Mapping[str, str]) -> dict[str, object]:
    """Every topic config's value: the topic's override, else the broker's synonym, else Kafka's default."""
    out: dict[str, object] = {}
    for key in TOPIC_CONFIGS:
        if key.name in overrides:
            out[key.name] = key.parse(overrides[key.name])
        else:
            out[key.name] = broker.topic_default(key.name)[0]  # type: ignore[attr-defined]
    return out
