"""The one Admin call confluent-kafka's Python API lacks, DeleteConsumerGroupOffsets, made through the librdkafka
that confluent-kafka ships (its C admin API, via ctypes). No protocol is spoken here; librdkafka does it all."""

from __future__ import annotations

import ctypes
import glob
import os
from ctypes import POINTER, Structure, c_char_p, c_int, c_int32, c_int64, c_size_t, c_void_p

RD_KAFKA_PRODUCER = 0
RD_KAFKA_ADMIN_OP_ANY = 0


class TopicPartition(Structure):  # rd_kafka_topic_partition_t
    _fields_ = [("topic", c_char_p), ("partition", c_int32), ("offset", c_int64), ("metadata", c_void_p),
                ("metadata_size", c_size_t), ("opaque", c_void_p), ("err", c_int), ("_private", c_void_p)]


class TopicPartitionList(Structure):  # rd_kafka_topic_partition_list_t
    _fields_ = [("cnt", c_int), ("size", c_int), ("elems", POINTER(TopicPartition))]


def _library() -> ctypes.CDLL:
    import confluent_kafka

    package = os.path.dirname(confluent_kafka.__file__)
    bundled = glob.glob(os.path.join(package + ".libs", "librdkafka*.so*"))
    lib = ctypes.CDLL(bundled[0] if bundled else "librdkafka.so.1")
    signatures = {
        "rd_kafka_conf_new": (c_void_p, []),
        "rd_kafka_conf_set": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, c_size_t]),
        "rd_kafka_new": (c_void_p, [c_int, c_void_p, c_char_p, c_size_t]),
        "rd_kafka_destroy": (None, [c_void_p]),
        "rd_kafka_queue_new": (c_void_p, [c_void_p]),
        "rd_kafka_queue_destroy": (None, [c_void_p]),
        "rd_kafka_queue_poll": (c_void_p, [c_void_p, c_int]),
        "rd_kafka_event_destroy": (None, [c_void_p]),
        "rd_kafka_event_error": (c_int, [c_void_p]),
        "rd_kafka_event_error_string": (c_char_p, [c_void_p]),
        "rd_kafka_event_DeleteConsumerGroupOffsets_result": (c_void_p, [c_void_p]),
        "rd_kafka_DeleteConsumerGroupOffsets_result_groups": (POINTER(c_void_p), [c_void_p, POINTER(c_size_t)]),
        "rd_kafka_group_result_error": (c_void_p, [c_void_p]),
        "rd_kafka_group_result_partitions": (POINTER(TopicPartitionList), [c_void_p]),
        "rd_kafka_error_code": (c_int, [c_void_p]),
        "rd_kafka_error_string": (c_char_p, [c_void_p]),
        "rd_kafka_err2str": (c_char_p, [c_int]),
        "rd_kafka_topic_partition_list_new": (POINTER(TopicPartitionList), [c_int]),
        "rd_kafka_topic_partition_list_add": (c_void_p, [POINTER(TopicPartitionList), c_char_p, c_int32]),
        "rd_kafka_topic_partition_list_destroy": (None, [POINTER(TopicPartitionList)]),
        "rd_kafka_DeleteConsumerGroupOffsets_new": (c_void_p, [c_char_p, POINTER(TopicPartitionList)]),
        "rd_kafka_DeleteConsumerGroupOffsets_destroy": (None, [c_void_p]),
        "rd_kafka_DeleteConsumerGroupOffsets": (None, [c_void_p, POINTER(c_void_p), c_size_t, c_void_p, c_void_p]),
        "rd_kafka_AdminOptions_new": (c_void_p, [c_void_p, c_int]),
        "rd_kafka_AdminOptions_destroy": (None, [c_void_p]),
        "rd_kafka_AdminOptions_set_request_timeout": (c_int, [c_void_p, c_int, c_char_p, c_size_t]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def delete_consumer_group_offsets(conf: dict[str, str], group: str, partitions: list[tuple[str, int]], timeout_s: float
                                  ) -> tuple[tuple[int, str] | None, dict[tuple[str, int], tuple | None]]:
    """Admin.deleteConsumerGroupOffsets. Returns the group-level error (code, message) or None, and per partition
    its error (code, message) or None. A timeout is reported as librdkafka's _TIMED_OUT (-185)."""
    lib = _library()
    errstr = ctypes.create_string_buffer(512)
    kconf = lib.rd_kafka_conf_new()
    for key, value in {**conf, "log_level": "0"}.items():
        if lib.rd_kafka_conf_set(kconf, key.encode(), str(value).encode(), errstr, len(errstr)) != 0:
            raise ValueError(errstr.value.decode())
    rk = lib.rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, len(errstr))
    if not rk:
        raise ValueError(errstr.value.decode())
    queue = lib.rd_kafka_queue_new(rk)
    plist = lib.rd_kafka_topic_partition_list_new(len(partitions))
    for topic, partition in partitions:
        lib.rd_kafka_topic_partition_list_add(plist, topic.encode(), partition)
    request = lib.rd_kafka_DeleteConsumerGroupOffsets_new(group.encode(), plist)
    options = lib.rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY)
    lib.rd_kafka_AdminOptions_set_request_timeout(options, int(timeout_s * 1000), errstr, len(errstr))
    event = None
    try:
        lib.rd_kafka_DeleteConsumerGroupOffsets(rk, (c_void_p * 1)(request), 1, options, queue)
        event = lib.rd_kafka_queue_poll(queue, int(timeout_s * 1000) + 5000)
        if not event:
            return (-185, "Local: Timed out"), {}
        if lib.rd_kafka_event_error(event):
            return (lib.rd_kafka_event_error(event), lib.rd_kafka_event_error_string(event).decode()), {}
        count = c_size_t()
        result = lib.rd_kafka_event_DeleteConsumerGroupOffsets_result(event)
        groups = lib.rd_kafka_DeleteConsumerGroupOffsets_result_groups(result, ctypes.byref(count))
        group_error = None
        per_partition: dict[tuple[str, int], tuple | None] = {}
        for i in range(count.value):
            error = lib.rd_kafka_group_result_error(groups[i])
            if error:
                group_error = (lib.rd_kafka_error_code(error), lib.rd_kafka_error_string(error).decode())
            parts = lib.rd_kafka_group_result_partitions(groups[i])
            for j in range(parts.contents.cnt if parts else 0):
                tp = parts.contents.elems[j]
                per_partition[(tp.topic.decode(), tp.partition)] = (
                    (tp.err, lib.rd_kafka_err2str(tp.err).decode()) if tp.err else None)
        return group_error, per_partition
    finally:
        if event:
            lib.rd_kafka_event_destroy(event)
        lib.rd_kafka_AdminOptions_destroy(options)
        lib.rd_kafka_DeleteConsumerGroupOffsets_destroy(request)
        lib.rd_kafka_topic_partition_list_destroy(plist)
        lib.rd_kafka_queue_destroy(queue)
        lib.rd_kafka_destroy(rk)
