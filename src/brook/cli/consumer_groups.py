"""kafka-consumer-groups: list, describe, delete consumer groups and reset or delete their offsets, as Kafka's
ConsumerGroupCommand (tools/src/main/java/org/apache/kafka/tools/consumer/group/, Kafka 3.9); its flags are in
consumer_group_options.py."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from brook.cli.consumer_group_options import GroupOptions
from brook.cli.options import (
    OptionError,
    entry_point,
    load_props,
    log,
    print_usage_and_exit,
)

LOGGER = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
MISSING = "-"
STATES = ("Unknown", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty", "Assigning",
          "Reconciling")  # org.apache.kafka.common.ConsumerGroupState
_CK_STATES = {"UNKNOWN": "Unknown", "PREPARING_REBALANCING": "PreparingRebalance",
              "COMPLETING_REBALANCING": "CompletingRebalance", "STABLE": "Stable", "DEAD": "Dead", "EMPTY": "Empty"}


class IllegalArgument(Exception):
    """java.lang.IllegalArgumentException: ConsumerGroupCommand.run answers it with the usage."""


class CommandFailed(Exception):
    """Any other Throwable: run prints "Error: Executing consumer group command failed due to <getMessage()>"."""


def state_name(state: Any) -> str:
    return _CK_STATES.get(getattr(state, "name", str(state)), "Unknown")


def parse_states(text: str) -> set[str]:
    names = {s.lower(): s for s in STATES}
    parsed = {names.get(s.strip().lower(), "Unknown") for s in text.split(",")}
    if "Unknown" in parsed:
        raise IllegalArgument(f"Invalid state list '{text}'. Valid states are: " + ", ".join(STATES[1:]))
    return parsed


def group_type(listing: Any) -> str:
    return getattr(getattr(listing, "type", None), "name", "UNKNOWN").capitalize()  # GroupType.toString


def parse_types(text: str) -> set[str]:
    parsed = {t.strip().capitalize() if t.strip().lower() in ("consumer", "classic") else "Unknown"
              for t in text.lower().split(",")}
    if "Unknown" in parsed:
        raise IllegalArgument(f"Invalid types list '{text}'. Valid types are: Consumer, Classic")
    return parsed


def parse_datetime(text: str) -> int:
    """Utils.getDateTime: 'yyyy-MM-ddTHH:mm:ss.SSS' with an optional zone (UTC when absent), in epoch ms."""
    if len(text.split("T")) < 2:
        raise CommandFailed("java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according "
                            "to ISO8601 format")
    if not re.search(r"[+\-Z]", text.split("T")[1]):
        text += "Z"
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})(Z|[+-]\d{2}(?::?\d{2})?)", text)
    try:
        if not m:
            raise ValueError
        zone = "+00:00" if m.group(2) == "Z" else m.group(2)
        zone = zone if len(zone) != 3 else zone + ":00"
        return int(datetime.fromisoformat(m.group(1) + zone).timestamp() * 1000)
    except ValueError:
        raise CommandFailed(f'java.text.ParseException: Unparseable date: "{text}"') from None


def parse_duration(text: str) -> timedelta:
    """java.time.Duration.parse for 'PnDTnHnMn.nS'."""
    m = re.fullmatch(r"([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+(?:[.,]\d{0,9})?)S)?)?",
                     text, re.IGNORECASE)
    if not m or not any(m.group(i) for i in range(2, 6)) or text.upper().endswith("T"):
        raise CommandFailed("java.time.format.DateTimeParseException: Text cannot be parsed to a Duration")
    days, hours, minutes, seconds = (float((g or "0").replace(",", ".")) for g in m.group(2, 3, 4, 5))
    span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return -span if m.group(1) == "-" else span


class ConsumerGroupService:
    def __init__(self, o: GroupOptions) -> None:
        from brook.cli.clients import admin_client

        self.o, self.opts = o, o.opts
        props = load_props(self.opts.value_of(o.command_config)) if self.opts.has(o.command_config) else {}
        self.bootstrap = self.opts.value_of(o.bootstrap_server)
        self.props = props
        self.admin = admin_client(self.bootstrap, props)
        self.timeout = self.opts.value_of(o.timeout) / 1000

    # --- calls, with Java's wrapping of failures -------------------------------------------------------------

    def _get(self, future: Any, call: str, wrapped: bool = False) -> Any:
        """future.get(): a failure as ExecutionException.getMessage(), or as RuntimeException(ExecutionException)."""
        from confluent_kafka import KafkaException

        from brook.cli.clients import from_kafka

        try:
            return future.result()
        except KafkaException as e:
            error = from_kafka(e, call)
            raise CommandFailed(("java.util.concurrent.ExecutionException: " if wrapped else "") + error.java()) \
                from None

    def list_group_ids(self) -> list[str]:
        result = self._get(self.admin.list_consumer_groups(request_timeout=self.timeout), "listConsumerGroups", True)
        self._raise_first(result.errors, "listConsumerGroups", True)
        return [g.group_id for g in result.valid]

    def _raise_first(self, errors: list, call: str, wrapped: bool = False) -> None:
        """ListConsumerGroupsResult.all() fails with the first error any broker answered."""
        from brook.cli.clients import from_kafka

        if errors:
            error = from_kafka(errors[0], call).java()
            raise CommandFailed(("java.util.concurrent.ExecutionException: " if wrapped else "") + error)

    def describe_groups(self, groups: list[str]) -> dict[str, Any]:
        futures = self.admin.describe_consumer_groups(groups, request_timeout=self.timeout)
        return {g: self._get(futures[g], "describeConsumerGroups") for g in groups}

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        from confluent_kafka import ConsumerGroupTopicPartitions

        futures = self.admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                                         request_timeout=self.timeout)
        result = self._get(futures[group], "listConsumerGroupOffsets", True)
        return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions if tp.offset >= 0}

    def log_offsets(self, partitions: list[tuple[str, int]], spec: str, timestamp: int = 0) -> dict:
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        if not partitions:
            return {}
        offset_spec = {"latest": OffsetSpec.latest, "earliest": OffsetSpec.earliest}.get(spec)
        request = {TopicPartition(t, p): offset_spec() if offset_spec else OffsetSpec.for_timestamp(timestamp)
                   for t, p in partitions}
        futures = self.admin.list_offsets(request, request_timeout=self.timeout)
        return {(tp.topic, tp.partition): self._get(f, "listOffsets", True).offset for tp, f in futures.items()}

    def topic_partitions(self, topics: list[str]) -> list[tuple[str, int]]:
        from confluent_kafka import TopicCollection

        if not topics:
            return []
        futures = self.admin.describe_topics(TopicCollection(topics), request_timeout=self.timeout)
        return [(t, p.id) for t in topics for p in self._get(futures[t], "describeTopics", True).partitions]

    # --- list ------------------------------------------------------------------------------------------------

    def list_groups(self) -> None:
        from confluent_kafka import ConsumerGroupState

        if not self.opts.has(self.o.state) and not self.opts.has(self.o.type):
            for group in self.list_group_ids():
                print(group)
            return
        wanted = parse_states(self.opts.value_of(self.o.state)) if self.opts.value_of(self.o.state) else set()
        states = {s for s in ConsumerGroupState if _CK_STATES.get(s.name) in wanted}
        kwargs = {"states": states} if states else {}
        if wanted and not states:
            listings = []
        else:
            result = self._get(self.admin.list_consumer_groups(request_timeout=self.timeout, **kwargs),
                               "listConsumerGroups")
            self._raise_first(result.errors, "listConsumerGroups")
            listings = result.valid
        if self.opts.value_of(self.o.type):
            types = parse_types(self.opts.value_of(self.o.type))
            listings = [g for g in listings if group_type(g) in types]
        width = max([15] + [len(g.group_id) for g in listings]) + 10
        columns = ["GROUP"] + (["TYPE"] if self.opts.has(self.o.type) else []) + (
            ["STATE"] if self.opts.has(self.o.state) else [])

        def row(values: list[str]) -> str:
            return values[0].ljust(width) + "".join(" " + v.ljust(20) for v in values[1:])

        print(row(columns))
        for g in listings:
            values = [g.group_id]
            if self.opts.has(self.o.type):
                values.append(group_type(g))
            if self.opts.has(self.o.state):
                values.append(state_name(g.state))
            print(row(values))

    # --- describe --------------------------------------------------------------------------------------------

    def should_print_member_state(self, group: str, state: str, rows: int) -> bool:
        if state == "Dead":
            print_error(f"Consumer group '{group}' does not exist.")
        elif state == "Empty":
            print(f"\nConsumer group '{group}' has no active members.", file=sys.stderr)
        elif state in ("PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling"):
            print(f"\nWarning: Consumer group '{group}' is rebalancing.", file=sys.stderr)
        elif state != "Stable":
            raise CommandFailed(f"Expected a valid consumer group state, but found '{state}'.")
        return state != "Dead" and rows > 0

    def describe(self) -> None:
        o, opts = self.o, self.opts
        groups = self.list_group_ids() if opts.has(o.all_groups) else opts.values_of(o.group)
        descriptions = self.describe_groups(groups)
        for group in sorted(descriptions):
            desc = descriptions[group]
            if opts.has(o.members):
                self.print_members(group, desc, opts.has(o.verbose))
            elif opts.has(o.state):
                self.print_state(group, desc)
            else:
                self.print_offsets(group, desc)

    def print_offsets(self, group: str, desc: Any) -> None:
        committed = self.committed(group)
        rows: list[list[str]] = []
        assigned: set[tuple[str, int]] = set()
        members = sorted((m for m in desc.members if m.assignment.topic_partitions),
                         key=lambda m: -len(m.assignment.topic_partitions))
        owners: list[tuple[list[tuple[str, int]], tuple[str, str, str]]] = []
        for m in members:
            tps = sorted({(tp.topic, tp.partition) for tp in m.assignment.topic_partitions})
            assigned.update(tps)
            owners.append((tps, (m.member_id, m.host, m.client_id)))
        unassigned = sorted(tp for tp in committed if tp not in assigned)
        if unassigned:
            owners.append((unassigned, (MISSING, MISSING, MISSING)))
        ends = self.log_offsets([tp for tps, _ in owners for tp in tps], "latest")
        for tps, (member, host, client) in owners:
            for tp in tps:
                offset, end = committed.get(tp), ends.get(tp)
                lag = end - offset if offset is not None and end is not None else None
                rows.append([group, tp[0], str(tp[1]), *(MISSING if v is None else str(v) for v in (offset, end, lag)),
                             member, host, client])
        if not self.should_print_member_state(group, state_name(desc.state), len(rows)):
            return
        widths = [max([15] + [len(r[i]) for r in rows]) for i in (0, 1, 6, 7)]
        g, t, c, h = widths
        fmt = f"{{:<{g}}} {{:<{t}}} {{:<10}} {{:<15}} {{:<15}} {{:<15}} {{:<{c}}} {{:<{h}}} {{}}"
        header = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                  "CLIENT-ID"]
        print("\n" + "\n".join(fmt.format(*r) for r in [header, *rows]))

    def print_members(self, group: str, desc: Any, verbose: bool) -> None:
        members = [(group, m.member_id, m.group_instance_id or "", m.host, m.client_id,
                    sorted({(tp.topic, tp.partition) for tp in m.assignment.topic_partitions}))
                   for m in desc.members]
        if not self.should_print_member_state(group, state_name(desc.state), len(members)):
            return
        with_instance = any(m[2] for m in members)
        widths = [max([w] + [len(m[i]) for m in members]) for i, w in ((0, 15), (1, 15), (2, 17), (3, 15), (4, 15))]
        columns = [0, 1, 2, 3, 4] if with_instance else [0, 1, 3, 4]

        def row(values: Sequence[str]) -> str:
            return "".join(values[i].ljust(widths[i]) + " " for i in columns) + values[5].ljust(15) + " "

        lines = [row(["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"])
                 + ("ASSIGNMENT" if verbose else "")]
        for m in members:
            text = row([*m[:5], str(len(m[5]))])
            if verbose:  # Kafka's docs show topic(partitions); 3.9.0's Java port dropped the topic name
                by_topic: dict[str, list[str]] = {}
                for t, p in m[5]:
                    by_topic.setdefault(t, []).append(str(p))
                text += ", ".join(sorted(f"{t}({','.join(sorted(ps))})" for t, ps in by_topic.items())) or MISSING
            lines.append(text)
        print("\n" + "\n".join(lines))

    def print_state(self, group: str, desc: Any) -> None:
        state = state_name(desc.state)
        if not self.should_print_member_state(group, state, 1):
            return
        c = desc.coordinator
        coordinator = f"{c.host}:{c.port}  ({c.id})"
        fmt = f"{{:<{max(25, len(coordinator))}}} {{:<25}} {{:<20}} {{:<15}} {{}}"
        print("\n" + fmt.format("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
              + "\n" + fmt.format(group, coordinator, desc.partition_assignor, state, len(desc.members)))

    # --- delete ----------------------------------------------------------------------------------------------

    def delete_groups(self) -> None:
        from confluent_kafka import KafkaException

        from brook.cli.clients import from_kafka

        groups = self.list_group_ids() if self.opts.has(self.o.all_groups) else self.opts.values_of(self.o.group)
        futures = self.admin.delete_consumer_groups(groups, request_timeout=self.timeout) if groups else {}
        success, failed = [], {}
        for group, future in futures.items():
            try:
                future.result()
                success.append(group)
            except KafkaException as e:
                error = from_kafka(e, "deleteConsumerGroups").java()
                failed[group] = f"java.util.concurrent.ExecutionException: {error}"
        if not failed:
            print(f"Deletion of requested consumer groups ('{', '.join(success)}') was successful.")
            return
        print_error("Deletion of some consumer groups failed:")
        for group, error in failed.items():
            print(f"* Group '{group}' could not be deleted due to: {error}")
        if success:  # Kafka 3.9 prints this line with its quotes garbled, exactly so
            print(f"\nThese consumer groups were deleted successfully: '{chr(39).join(success)}', '")

    def delete_offsets(self) -> None:
        from brook.cli.clients import ERRORS, librdkafka_config
        from brook.cli.librdkafka import delete_consumer_group_offsets

        group, topics = self.opts.value_of(self.o.group), self.opts.values_of(self.o.topic)
        results: dict[tuple[str, int], str | None] = {}
        partitions: list[tuple[str, int]] = []
        for arg in (t for t in topics if ":" in t):
            partitions.extend(parse_topic_partitions(arg))
        for topic in (t for t in topics if ":" not in t):
            try:
                partitions.extend(self.topic_partitions([topic]))
            except CommandFailed as e:  # printed as ExecutionException.getMessage(): the cause alone
                results[(topic, -1)] = str(e).removeprefix("java.util.concurrent.ExecutionException: ")
        conf = {**librdkafka_config(self.props), "bootstrap.servers": self.bootstrap}
        group_error, per_partition = delete_consumer_group_offsets(conf, group, sorted(set(partitions)), self.timeout)

        def java(code: int, _librdkafka_text: str) -> str:  # OffsetDelete carries no messages: Errors' defaults
            from brook.cli.clients import ToolError, from_kafka

            class Err:
                def code(self) -> int:
                    return code

                def str(self) -> str:
                    return ""

            error: ToolError = from_kafka(Err(), "deleteConsumerGroupOffsets")  # type: ignore[arg-type]
            return error.java()

        top = group_error[0] if group_error else next((e[0] for e in per_partition.values() if e), 0)
        for tp in sorted(set(partitions)):
            error = group_error or per_partition.get(tp)
            results[tp] = None if error is None else java(*error)
        messages = {0: None, 24: f"'{group}' is not valid.", 69: f"'{group}' does not exist.",
                    30: f"Access to '{group}' is not authorized.",
                    68: f"Deleting offsets of a consumer group '{group}' is forbidden if the group is not empty.",
                    86: "Encounter some partition level error, see the follow-up details:",
                    29: "Encounter some partition level error, see the follow-up details:",
                    3: "Encounter some partition level error, see the follow-up details:"}
        if top == 0:
            print(f"Request succeed for deleting offsets with topic {', '.join(topics)} group {group}")
        elif top in messages:
            print_error(messages[top] or "")
        else:
            name = ERRORS.get(top, ("", ""))[0]
            print_error(f"Encounter some unknown error: {re.sub(r'(?<!^)(?=[A-Z])', '_', name).upper()}")
        fmt = "{:<30} {:<15} {:<15}"
        lines = [fmt.format("TOPIC", "PARTITION", "STATUS")]
        for (t, p), status in sorted(results.items(), key=lambda kv: kv[0][0] + str(kv[0][1])):
            lines.append(fmt.format(t, p if p >= 0 else "Not Provided",
                                    "Successful" if status is None else f"Error: :{status}"))
        print("\n" + "\n".join(lines))

    # --- reset offsets ---------------------------------------------------------------------------------------

    def reset_offsets(self) -> dict[str, dict[tuple[str, int], int]]:
        o, opts = self.o, self.opts
        groups = self.list_group_ids() if opts.has(o.all_groups) else opts.values_of(o.group)
        result: dict[str, dict[tuple[str, int], int]] = {}
        for group, desc in self.describe_groups(groups).items():
            state = state_name(desc.state)
            if state not in ("Empty", "Dead"):
                print_error(f"Assignments can only be reset if the group '{group}' is inactive, but the current state "
                            f"is {state}.")
                result[group] = {}
                continue
            planned = self.prepare_offsets(group, self.partitions_to_reset(group))
            if opts.has(o.execute) and not opts.has(o.dry_run):
                self.alter_offsets(group, planned)
            result[group] = planned
        return result

    def alter_offsets(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p, off) for (t, p), off in offsets.items()])
        futures = self.admin.alter_consumer_group_offsets([request], request_timeout=self.timeout)
        self._get(futures[group], "alterConsumerGroupOffsets", True)

    def partitions_to_reset(self, group: str) -> list[tuple[str, int]]:
        if self.opts.has(self.o.all_topics):
            return sorted(self.committed(group))
        if self.opts.has(self.o.topic):
            args = self.opts.values_of(self.o.topic)
            explicit = [tp for a in args if ":" in a for tp in parse_topic_partitions(a)]
            return explicit + self.topic_partitions([a for a in args if ":" not in a])
        if not self.opts.has(self.o.from_file):
            print_usage_and_exit(self.o.parser, "One of the reset scopes should be defined: --all-topics, --topic.")
        return []

    def prepare_offsets(self, group: str, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        o, opts = self.o, self.opts
        if opts.has(o.to_offset):
            return self.check_range({tp: opts.value_of(o.to_offset) for tp in partitions})
        if opts.has(o.to_earliest) or opts.has(o.to_latest):
            return self.log_offsets(partitions, "earliest" if opts.has(o.to_earliest) else "latest")
        if opts.has(o.shift_by):
            current = self.committed(group)
            for tp in partitions:
                if tp not in current:
                    raise IllegalArgument(f"Cannot shift offset for partition {tp[0]}-{tp[1]} since there is no "
                                          "current committed offset")
            return self.check_range({tp: current[tp] + opts.value_of(o.shift_by) for tp in partitions})
        if opts.has(o.to_datetime) or opts.has(o.by_duration):
            if opts.has(o.to_datetime):
                timestamp = parse_datetime(opts.value_of(o.to_datetime))
            else:
                timestamp = int((time.time() - parse_duration(opts.value_of(o.by_duration)).total_seconds()) * 1000)
            found = self.log_offsets(partitions, "timestamp", timestamp)
            empty = [tp for tp, off in found.items() if off < 0]
            for t, p in empty:
                print(f"\nWarn: Partition {p} from topic {t} is empty. Falling back to latest known offset.")
            return {**found, **self.log_offsets(empty, "latest")}
        if opts.has(o.from_file):
            plan = self.reset_plan_from_file().get(group)
            if plan is None:
                print_error(f"No reset plan for group {group} found")
                return {}
            return self.check_range(plan)
        if opts.has(o.to_current):
            current = self.committed(group)
            missing = [tp for tp in partitions if tp not in current]
            return {**{tp: current[tp] for tp in partitions if tp in current}, **self.log_offsets(missing, "latest")}
        scenarios = "[" + ", ".join(str(s) for s in o.scenarios) + "]"
        print_usage_and_exit(o.parser, f"Option '{o.reset_offsets}' requires one of the following scenarios: "
                             f"{scenarios}")

    def check_range(self, requested: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        starts = self.log_offsets(list(requested), "earliest")
        ends = self.log_offsets(list(requested), "latest")
        out = {}
        for (t, p), offset in requested.items():
            if offset > ends[(t, p)]:
                log("WARN", f"New offset ({offset}) is higher than latest offset for topic partition {t}-{p}. Value "
                    f"will be set to {ends[(t, p)]}", LOGGER)
                offset = ends[(t, p)]
            elif offset < starts[(t, p)]:
                log("WARN", f"New offset ({offset}) is lower than earliest offset for topic partition {t}-{p}. Value "
                    f"will be set to {starts[(t, p)]}", LOGGER)
                offset = starts[(t, p)]
            out[(t, p)] = offset
        return out

    def reset_plan_from_file(self) -> dict[str, dict[tuple[str, int], int]]:
        try:
            with open(self.opts.value_of(self.o.from_file), encoding="utf-8") as f:
                lines = [line for line in f.read().split("\n") if line]
        except OSError as e:
            raise CommandFailed(f"java.io.FileNotFoundException: {e.filename} (No such file or directory)") from None
        single = len(self.opts.values_of(self.o.group)) == 1
        rows = [[c.strip('"') for c in line.split(",")] for line in lines]
        plan: dict[str, dict[tuple[str, int], int]] = {}
        for row in rows:
            if single and len(rows[0]) == 3:
                group, (topic, partition, offset) = self.opts.value_of(self.o.group), row
            else:
                group, topic, partition, offset = row
            plan.setdefault(group, {})[(topic, int(partition))] = int(offset)
        return plan

    def export_csv(self, plan: dict[str, dict[tuple[str, int], int]]) -> str:
        single = len(self.opts.values_of(self.o.group)) == 1
        return "".join(",".join(map(csv_field, ([] if single else [g]) + [t, str(p), str(off)])) + "\n"
                       for g, offsets in sorted(plan.items()) for (t, p), off in sorted(offsets.items()))


def csv_field(value: str) -> str:
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if re.search(r'[",\n\r]', value) else value


def parse_topic_partitions(arg: str) -> list[tuple[str, int]]:
    parts = arg.split(":")
    if len(parts) != 2:
        raise IllegalArgument(f"Invalid topic arg '{arg}', expected topic name and partitions")
    out = []
    for p in parts[1].split(","):
        if not re.fullmatch(r"[+-]?[0-9]+", p):
            raise IllegalArgument(f"Invalid partition '{p}' specified in topic arg '{arg}''")
        out.append((parts[0], int(p)))
    return out


def print_error(message: str) -> None:
    print(f"\nError: {message}")


def print_offsets_to_reset(plan: dict[str, dict[tuple[str, int], int]]) -> None:
    if not plan:
        return
    fmt = "{:<30} {:<30} {:<10} {:<15}"
    lines = [fmt.format("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")]
    lines += [fmt.format(g, t, p, off)
              for g, offsets in sorted(plan.items()) for (t, p), off in sorted(offsets.items())]
    print("\n" + "\n".join(lines))


def run(o: GroupOptions) -> None:
    from brook.cli.clients import ToolError

    try:
        service = ConsumerGroupService(o)
        opts = o.opts
        if opts.has(o.list):
            service.list_groups()
        elif opts.has(o.describe):
            service.describe()
        elif opts.has(o.delete):
            service.delete_groups()
        elif opts.has(o.reset_offsets):
            plan = service.reset_offsets()
            if opts.has(o.export):
                print(service.export_csv(plan))
            else:
                print_offsets_to_reset(plan)
        elif opts.has(o.delete_offsets):
            service.delete_offsets()
    except IllegalArgument as e:
        print_usage_and_exit(o.parser, str(e))
    except (CommandFailed, ToolError, OSError, OptionError) as e:
        print_error(f"Executing consumer group command failed due to {e}")
        print(e.java() if hasattr(e, "java") else f"java.lang.RuntimeException: {e}", file=sys.stderr)


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        o = GroupOptions(args)
    except OptionError as e:  # thrown out of main(): the JVM reports it and exits with 1
        print(f'Exception in thread "main" {e.java()}', file=sys.stderr)
        return 1
    actions = [o.list, o.describe, o.delete, o.reset_offsets, o.delete_offsets]
    if sum(o.opts.has(a) for a in actions) != 1:
        print_usage_and_exit(o.parser, "Command must include exactly one action: --list, --describe, --delete, "
                             "--reset-offsets, --delete-offsets")
    try:
        run(o)
    except KeyboardInterrupt:
        return 130
    return 0  # ConsumerGroupCommand reports failures as "Error: ..." and still exits with 0


if __name__ == "__main__":
    sys.exit(main())
