"""kafka-streams-application-reset: Kafka 3.9's StreamsResetter (tools): reset a Kafka Streams (or SQL) application's
committed offsets on its input topics, skip its intermediate topics to their end, and delete its internal topics
(`<application.id>-...-changelog` / `-repartition` and the foreign-key join topics), refusing while its consumer
group has members. jopt-simple options, messages and exit codes as Kafka's.

The Java tool uses a KafkaConsumer of the group to seek and commit; here confluent-kafka's AdminClient does the same
work: list_offsets for the log's ends and timestamps, list/alter_consumer_group_offsets for the group's positions,
delete_topics for the internal topics. Sets print in Java's HashSet order, as Kafka's lines come out.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any

from brook.cli.options import (
    OptionError,
    OptionParser,
    check_invalid_args,
    entry_point,
    load_props_nio,
    print_usage_and_exit,
    print_version_and_exit,
)

USAGE = (
    "This tool helps to quickly reset an application in order to reprocess its data from scratch.\n"
    "* This tool resets offsets of input topics to the earliest available offset (by default), or to a specific "
    "defined position and it skips to the end of intermediate topics (topics that are input and output topics, e.g., "
    "used by deprecated through() method).\n"
    "* This tool deletes the internal topics that were created by Kafka Streams (topics starting with "
    "\"<application.id>-\").\n"
    "The tool finds these internal topics automatically. If the topics flagged automatically for deletion by the "
    "dry-run are unsuitable, you can specify a subset with the \"--internal-topics\" option.\n"
    "* This tool will not delete output topics (if you want to delete them, you need to do it yourself with the "
    "bin/kafka-topics.sh command).\n"
    "* This tool will not clean up the local state on the stream application instances (the persisted stores used to "
    "cache aggregation results).\n"
    "You need to call KafkaStreams#cleanUp() in your application or manually delete them from the directory "
    "specified by \"state.dir\" configuration (${java.io.tmpdir}/kafka-streams/<application.id> by default).\n"
    "* When long session timeout has been configured, active members could take longer to get expired on the broker "
    "thus blocking the reset job to complete. Use the \"--force\" option could remove those left-over members "
    "immediately. Make sure to stop all stream applications when this option is specified to avoid unexpected "
    "disruptions.\n\n"
    "*** Important! You will get wrong output if you don't clean up the local stores after running the reset tool!\n\n"
    "*** Warning! This tool makes irreversible changes to your application. It is strongly recommended that you run "
    "this once with \"--dry-run\" to preview your changes before making them.\n\n")
# Java 17's helpful NullPointerException for a Map<TopicPartition, Long>.get() that is null where a long is needed
_NULL_LONG = ('java.lang.NullPointerException: Cannot invoke "java.lang.Long.longValue()" because the return value '
              'of "java.util.Map.get(Object)" is null')
_FK_JOIN = re.compile(r".+-KTABLE-FK-JOIN-SUBSCRIPTION-(REGISTRATION|RESPONSE)-\d+-topic")


class JavaError(Exception):
    """A Throwable the tool prints as `ERROR: <toString()>`; `java` is that toString()."""

    def __init__(self, java: str) -> None:
        super().__init__(java)
        self.java = java


def matches_internal_topic_format(name: str) -> bool:
    return (name.endswith(("-changelog", "-repartition", "-subscription-registration-topic",
                           "-subscription-response-topic")) or bool(_FK_JOIN.fullmatch(name)))


def java_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(items) + "]"


class Options:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.application_id = p.accepts("application-id", "The Kafka Streams application ID (application.id).",
                                        arg="required", described_as="id", required=True)
        self.bootstrap_servers = p.accepts("bootstrap-servers", "DEPRECATED: Comma-separated list of broker urls with "
                                           "format: HOST1:PORT1,HOST2:PORT2", arg="required", described_as="urls")
        self.bootstrap_server = p.accepts(
            "bootstrap-server", "REQUIRED unless --bootstrap-servers(deprecated) is specified. The server(s) to "
            "connect to. The broker list string in the form HOST1:PORT1,HOST2:PORT2. (default: localhost:9092)",
            arg="required", described_as="server to connect to")
        self.input_topics = p.accepts(
            "input-topics", "Comma-separated list of user input topics. For these topics, the tool by default will "
            "reset the offset to the earliest available offset. Reset to other offset position by appending other "
            "reset offset option, ex: --input-topics foo --shift-by 5", arg="required", separator=",",
            described_as="list")
        self.intermediate_topics = p.accepts(
            "intermediate-topics", "Comma-separated list of intermediate user topics (topics that are input and "
            "output topics, e.g., used in the deprecated through() method). For these topics, the tool will skip to "
            "the end.", arg="required", separator=",", described_as="list")
        self.internal_topics = p.accepts(
            "internal-topics", "Comma-separated list of internal topics to delete. Must be a subset of the internal "
            "topics marked for deletion by the default behaviour (do a dry-run without this option to view these "
            "topics).", arg="required", separator=",", described_as="list")
        self.to_offset = p.accepts("to-offset", "Reset offsets to a specific offset.", arg="required", type="Long")
        self.to_datetime = p.accepts("to-datetime", "Reset offsets to offset from datetime. Format: "
                                     "'YYYY-MM-DDTHH:mm:SS.sss'", arg="required")
        self.by_duration = p.accepts("by-duration", "Reset offsets to offset by duration from current timestamp. "
                                     "Format: 'PnDTnHnMnS'", arg="required")
        self.to_earliest = p.accepts("to-earliest", "Reset offsets to earliest offset.")
        self.to_latest = p.accepts("to-latest", "Reset offsets to latest offset.")
        self.from_file = p.accepts("from-file", "Reset offsets to values defined in CSV file.", arg="required")
        self.shift_by = p.accepts("shift-by", "Reset offsets shifting current offset by 'n', where 'n' can be "
                                  "positive or negative", arg="required", type="Long", described_as="number-of-offsets")
        self.config_file = p.accepts("config-file", "Property file containing configs to be passed to admin clients "
                                     "and embedded consumer.", arg="required", described_as="file name")
        self.force = p.accepts("force", "Force the removal of members of the consumer group (intended to remove "
                               "stopped members if a long session timeout was used). Make sure to shut down all "
                               "stream applications when this option is specified to avoid unexpected rebalances.")
        self.dry_run = p.accepts("dry-run", "Display the actions that would be performed without executing the reset "
                                 "commands.")
        try:
            self.opts = p.parse(args)
            if not args or self.opts.has(p.help):
                print_usage_and_exit(p, USAGE)
            if self.opts.has(p.version):
                print_version_and_exit()
            resets = [self.to_offset, self.to_datetime, self.by_duration, self.to_earliest, self.to_latest,
                      self.from_file, self.shift_by]
            for spec in resets:
                check_invalid_args(p, self.opts, spec, [s for s in resets if s is not spec])
            self.app_id: str = self.opts.value_of(self.application_id)
            self.inputs: list[str] = self.opts.values_of(self.input_topics)
            self.intermediates: list[str] = self.opts.values_of(self.intermediate_topics)
        except OptionError as e:
            print_usage_and_exit(p, str(e))

    def has(self, spec: Any) -> bool:
        return self.opts.has(spec)

    def is_inferred_internal_topic(self, name: str) -> bool:
        """KAFKA-7930: input and intermediate topics named like internal ones are not internal."""
        return (name not in self.inputs and name not in self.intermediates and name.startswith(self.app_id + "-")
                and matches_internal_topic_format(name))


class StreamsResetter:
    def __init__(self, o: Options, props: dict[str, str]) -> None:
        from brook.cli.clients import admin_client, api_timeout_s

        self.o, self.props = o, props
        self.admin = admin_client(props["bootstrap.servers"], props)
        self.timeout = api_timeout_s(props)
        self.all_topics: list[str] = []

    def _get(self, future: Any, call: str) -> Any:
        from brook.cli.clients import from_kafka

        try:
            return future.result()
        except Exception as e:
            raise JavaError("java.util.concurrent.ExecutionException: " + from_kafka(e, call).java()) from None

    def run(self) -> int:
        self.maybe_delete_active_consumers()
        metadata = self.admin.list_topics(timeout=self.timeout)
        from brook.cli.java_collections import string_key_order

        # listTopics() leaves internal topics out; its names come as a HashSet
        self.all_topics = string_key_order(t for t in metadata.topics if not t.startswith("__"))
        self.partitions = {t: sorted(m.partitions) for t, m in metadata.topics.items()}
        if self.o.has(self.o.dry_run):
            print("----Dry run displays the actions which will be performed when running Streams Reset Tool----")
        code = self.maybe_reset_input_and_seek_to_end_intermediate()
        return code | self.maybe_delete_internal_topics()

    def maybe_delete_active_consumers(self) -> None:
        group = self.o.app_id
        desc = self._get(self.admin.describe_consumer_groups([group], request_timeout=10)[group],
                         "describeConsumerGroups")
        members = list(desc.members)
        if not members:
            return
        if self.o.has(self.o.force):
            print(f"Force deleting all active members in the group: {group}")
            self.remove_members(desc)
            return
        def assigned(m: Any) -> str:  # MemberAssignment.toString
            tps = m.assignment.topic_partitions if m.assignment else []
            return "(topicPartitions=" + ",".join(f"{tp.topic}-{tp.partition}" for tp in tps) + ")"

        text = ", ".join(  # MemberDescription.toString
            f"(memberId={m.member_id}, groupInstanceId={m.group_instance_id or 'null'}, clientId={m.client_id}, "
            f"host={m.host}, assignment={assigned(m)}, targetAssignment=Optional.empty)" for m in members)
        raise JavaError(f"java.lang.IllegalStateException: Consumer group '{group}' is still active and has following "
                        f"members: [{text}]. Make sure to stop all running application instances before running the "
                        "reset tool. You can use option '--force' to remove active members from the group.")

    def remove_members(self, desc: Any) -> None:
        """removeMembersFromConsumerGroup(group, all members): LeaveGroup v3+ to the coordinator (librdkafka has no
        call for it), each member by member id and group instance id."""
        import time

        from brook.cli.clients import error_for_code
        from brook.cli.kafka_rpc import call_highest, connect
        from brook.cli.rpc_security import check_security

        check_security(self.props)
        node = desc.coordinator
        with connect(node.host, node.port, time.monotonic() + self.timeout, "removeMembersFromConsumerGroup",
                     self.props) as conn:
            response = call_highest(conn, "leave_group", [5, 4, 3], lambda m: m.LeaveGroupRequest(
                group_id=self.o.app_id, members=tuple(m.MemberIdentity(
                    member_id=x.member_id, group_instance_id=x.group_instance_id, **(
                        {"reason": None} if "reason" in m.MemberIdentity.__dataclass_fields__ else {}))
                    for x in desc.members)), "removeMembersFromConsumerGroup")
        code = int(response.error_code) or next((int(x.error_code) for x in response.members if x.error_code), 0)
        if code:
            raise JavaError("java.util.concurrent.ExecutionException: " + error_for_code(code).java())

    # --- offsets ----------------------------------------------------------------------------------------------

    def maybe_reset_input_and_seek_to_end_intermediate(self) -> int:
        inputs, intermediates = self.o.inputs, self.o.intermediates
        if not inputs and not intermediates:
            print("No input or intermediate topics specified. Skipping seek.")
            return 0
        if inputs:
            print(f"Reset-offsets for input topics {java_list(inputs)}")
        if intermediates:
            print(f"Seek-to-end for intermediate topics {java_list(intermediates)}")
        code = 0
        missing_inputs = [t for t in inputs if t not in self.all_topics]
        missing_intermediates = [t for t in intermediates if t not in self.all_topics]
        if missing_inputs:
            print("Following input topics are not found, skipping them")
            for t in missing_inputs:
                print(f"Topic: {t}")
            code = 1
        if missing_intermediates:
            print("Following intermediate topics are not found, skipping them")
            for t in missing_intermediates:
                print(f"Topic:{t}")
            code = 1
        topics = [t for t in dict.fromkeys(inputs + intermediates) if t in self.all_topics]
        if not topics:
            return code
        from brook.cli.java_collections import hash_order, topic_partition_hash

        def tp_set(names: list[str]) -> list[tuple[str, int]]:  # a HashSet<TopicPartition>
            return hash_order([(t, p) for t in names for p in self.partitions.get(t, [])],
                              lambda tp: topic_partition_hash(*tp))

        input_tps = tp_set([t for t in topics if t in inputs])
        intermediate_tps = tp_set([t for t in topics if t not in inputs])
        positions = self.maybe_reset(input_tps)
        if intermediate_tps:
            print(f"Following intermediate topics offsets will be reset to end (for consumer group {self.o.app_id})")
            for t, _p in intermediate_tps:
                print(f"Topic: {t}")
            positions.update(self.log_offsets(intermediate_tps, "latest"))
        if not self.o.has(self.o.dry_run):
            self.commit(positions)
        print("Done.")
        return code

    def log_offsets(self, tps: list[tuple[str, int]], spec: str, timestamp: int = 0) -> dict[tuple[str, int], int]:
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        if not tps:
            return {}
        make = {"latest": OffsetSpec.latest, "earliest": OffsetSpec.earliest}.get(spec)
        futures = self.admin.list_offsets({TopicPartition(t, p): make() if make else OffsetSpec.for_timestamp(
            timestamp) for t, p in tps}, request_timeout=self.timeout)
        return {(tp.topic, tp.partition): self._get(f, "listOffsets").offset for tp, f in futures.items()}

    def committed(self, tps: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The consumer's position(): the committed offset, else auto.offset.reset (Java's default: latest)."""
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        request = ConsumerGroupTopicPartitions(self.o.app_id, [TopicPartition(t, p) for t, p in tps])
        result = self._get(self.admin.list_consumer_group_offsets([request], request_timeout=self.timeout)[
            self.o.app_id], "listConsumerGroupOffsets")
        found = {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0}
        missing = [tp for tp in tps if tp not in found]
        reset = self.props.get("auto.offset.reset", "latest")
        found.update(self.log_offsets(missing, "earliest" if reset == "earliest" else "latest"))
        return found

    def maybe_reset(self, tps: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        if not tps:
            return {}
        o = self.o
        print(f"Following input topics offsets will be reset to (for consumer group {o.app_id})")
        if o.has(o.to_offset):  # jopt converts a value when it is read, so a bad number fails only here
            targets = self.check_range(dict.fromkeys(tps, o.opts.value_of(o.to_offset)), tps, len(tps))
        elif o.has(o.to_latest):
            targets = self.log_offsets(tps, "latest")
        elif o.has(o.shift_by):
            current = self.committed(tps)
            shift = o.opts.value_of(o.shift_by)
            targets = self.check_range({tp: current[tp] + shift for tp in tps}, tps, len(tps))
        elif o.has(o.to_datetime) or o.has(o.by_duration):
            targets = self.reset_to_datetime(tps)
        elif o.has(o.from_file):
            targets = self.check_range(self.reset_plan(o.opts.value_of(o.from_file)), tps)
        else:
            targets = self.log_offsets(tps, "earliest")
        for t, p in tps:
            print(f"Topic: {t} Partition: {p} Offset: {targets[(t, p)]}")
        return targets

    def reset_to_datetime(self, tps: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        import time

        from brook.cli.consumer_groups import parse_datetime, parse_duration

        o = self.o
        try:
            if o.has(o.to_datetime):
                timestamp = parse_datetime(o.opts.value_of(o.to_datetime))
            else:
                span = parse_duration(o.opts.value_of(o.by_duration))
                timestamp = int(time.time() * 1000) - int(span.total_seconds() * 1000)
        except Exception as e:
            if "ParseException" in str(e) and "DateTimeParseException" not in str(e):
                print("ERROR: Resetting offsets failed.", file=sys.stderr)
            raise JavaError(str(e)) from None
        found = self.log_offsets(tps, "timestamp", timestamp)
        ends = self.log_offsets(tps, "latest")
        out = {}
        for t, p in tps:
            if found.get((t, p), -1) >= 0:
                out[(t, p)] = found[(t, p)]
            else:
                out[(t, p)] = ends[(t, p)]
                print(f"Partition {p} from topic {t} is empty, without a committed record. Falling back to latest "
                      "known offset.")
        return out

    def reset_plan(self, path: str) -> dict[tuple[str, int], int]:
        """parseResetPlan: TOPIC,PARTITION,OFFSET lines."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            print("ERROR: Resetting offsets failed.", file=sys.stderr)
            raise JavaError(f"java.nio.file.NoSuchFileException: {path}") from None
        if not text:
            print("ERROR: Resetting offsets failed.", file=sys.stderr)
            raise JavaError("java.text.ParseException: Error parsing reset plan CSV file. It is empty,")
        plan = {}
        for line in text.rstrip("\n").split("\n"):
            parts = line.split(",")
            if len(parts) != 3:
                print("ERROR: Resetting offsets failed.", file=sys.stderr)
                raise JavaError("java.text.ParseException: Reset plan CSV file is not following the format "
                                "`TOPIC,PARTITION,OFFSET`.")
            for value, bits in ((parts[1], 31), (parts[2], 63)):  # Integer.parseInt, Long.parseLong
                if not re.fullmatch(r"[+-]?\d+", value) or not -(1 << bits) <= int(value) < 1 << bits:
                    raise JavaError(f'java.lang.NumberFormatException: For input string: "{value}"')
            plan[(parts[0], int(parts[1]))] = int(parts[2])
        return plan

    def check_range(self, requested: dict[tuple[str, int], int], tps: list[tuple[str, int]],
                    capacity: int = 16) -> dict[tuple[str, int], int]:
        """checkOffsetRange: above the end is the end, at or below the beginning is the beginning (with a line).
        `requested` is iterated as the HashMap Kafka built (`new HashMap<>(capacity)`)."""
        from brook.cli.java_collections import hash_order, topic_partition_hash

        ends, starts = self.log_offsets(tps, "latest"), self.log_offsets(tps, "earliest")
        out = {}
        for tp in hash_order(requested, lambda tp: topic_partition_hash(*tp), capacity):
            if tp not in ends:  # a reset plan's partition that is no input partition: endOffsets.get() is null
                raise JavaError(_NULL_LONG)
            offset = requested[tp]
            if offset < ends[tp]:
                if offset > starts[tp]:
                    out[tp] = offset
                else:
                    print(f"New offset ({offset}) is lower than earliest offset. Value will be set to {starts[tp]}")
                    out[tp] = starts[tp]
            else:
                print(f"New offset ({offset}) is higher than latest offset. Value will be set to {ends[tp]}")
                out[tp] = ends[tp]
        if any(tp not in out for tp in tps):  # a reset plan without an input partition: seek(tp, null)
            raise JavaError(_NULL_LONG)
        return out

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        request = ConsumerGroupTopicPartitions(self.o.app_id, [TopicPartition(t, p, o) for (t, p), o in
                                                               offsets.items()])
        self._get(self.admin.alter_consumer_group_offsets([request], request_timeout=self.timeout)[self.o.app_id],
                  "commitSync")

    # --- internal topics --------------------------------------------------------------------------------------

    def maybe_delete_internal_topics(self) -> int:
        inferred = [t for t in self.all_topics if self.o.is_inferred_internal_topic(t)]
        specified = self.o.opts.values_of(self.o.internal_topics)
        if specified:
            if not all(t in inferred for t in specified):
                raise JavaError("java.lang.IllegalArgumentException: Invalid topic specified in the --internal-topics "
                                "option. Ensure that the topics specified are all internal topics. Do a dry run "
                                "without the --internal-topics option to see the list of all internal topics that can "
                                "be deleted.")
            to_delete = specified
            print(f"Deleting specified internal topics {java_list(to_delete)}")
        else:
            to_delete = inferred
            print(f"Deleting inferred internal topics {java_list(to_delete)}")
        if not self.o.has(self.o.dry_run) and to_delete:
            self.do_delete(to_delete)
        print("Done.")
        return 0

    def do_delete(self, topics: list[str]) -> None:
        from brook.cli.clients import from_kafka

        failed = False
        for topic, future in self.admin.delete_topics(topics, operation_timeout=30,
                                                      request_timeout=self.timeout).items():
            try:
                future.result()
            except Exception as e:
                print(f"ERROR: deleting topic {topic}", file=sys.stderr)
                print(f"java.util.concurrent.ExecutionException: {from_kafka(e, 'deleteTopics').java()}",
                      file=sys.stderr)
                failed = True
        if failed:
            raise JavaError("java.lang.RuntimeException: Encountered an error deleting one or more topics")


def execute(args: Sequence[str]) -> int:
    o = Options(args)
    try:
        props = load_props_nio(o.opts.value_of(o.config_file)) if o.has(o.config_file) else {}
        server = (o.opts.value_of(o.bootstrap_server) if o.has(o.bootstrap_server) else
                  o.opts.value_of(o.bootstrap_servers) if o.has(o.bootstrap_servers) else "localhost:9092")
        return StreamsResetter(o, {**props, "bootstrap.servers": server}).run()
    except JavaError as e:
        message = e.java
    except BrokenPipeError:  # stdout closed (`| head`): entry_point ends quietly
        raise
    except Exception as e:
        from brook.cli.clients import java_text

        message = java_text(e)
    print(f"ERROR: {message}", file=sys.stderr)  # then, in Kafka, the stack trace
    print(message, file=sys.stderr)
    return 1


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    return execute(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
