"""kafka-reassign-partitions: move partitions between brokers, as Kafka 3.9's ReassignPartitionsCommand (tools):
--generate (AdminUtils' assignment over --broker-list, rack-aware unless --disable-rack-aware), --execute (with
--throttle: leader/follower.replication.throttled.rate on the brokers involved and
leader/follower.replication.throttled.replicas on the topics), --verify (throttles cleared once nothing moves),
--cancel, --list. Brokers, racks and replicas come from confluent-kafka's AdminClient, which also sets the
throttles; AlterPartitionReassignments and ListPartitionReassignments, which librdkafka lacks, go to the controller
through kafka_rpc. Log-directory moves ("log_dirs" other than "any", --replica-alter-log-dirs-throttle) are not
supported: Brook brokers have one log directory."""

from __future__ import annotations

import datetime
import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

from brook.cli.options import (
    OptionParser,
    OptionSet,
    Spec,
    check_required_args,
    entry_point,
    load_props,
    maybe_print_help_or_version,
    print_usage_and_exit,
)

TopicPartition = tuple[str, int]
BROKER_THROTTLES = ("leader.replication.throttled.rate", "follower.replication.throttled.rate",
                    "replica.alter.log.dirs.io.max.bytes.per.second")
TOPIC_THROTTLES = ("leader.replication.throttled.replicas", "follower.replication.throttled.replicas")
CANNOT_EXECUTE = ("Cannot execute because there is an existing partition assignment.  Use --additional to override "
                  "this and create a new partition assignment in addition to the existing one. The --additional flag "
                  "can also be used to change the throttle by resubmitting the current reassignment.")
VERIFY_WARNING = ("Warning: You must run --verify periodically, until the reassignment completes, to ensure the "
                  "throttle is removed.")


class TerseException(Exception):
    pass


class AdminCommandFailedException(Exception):
    pass


class AdminOperationException(Exception):
    pass


def tp_str(tp: TopicPartition) -> str:
    return f"{tp[0]}-{tp[1]}"


class Options:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.verify = p.accepts("verify", "Verify if the reassignment completed as specified by the "
                                "--reassignment-json-file option. If there is a throttle engaged for the replicas "
                                "specified, and the rebalance has completed, the throttle will be removed")
        self.generate = p.accepts("generate", "Generate a candidate partition reassignment configuration. Note that "
                                  "this only generates a candidate assignment, it does not execute it.")
        self.execute = p.accepts("execute", "Kick off the reassignment as specified by the --reassignment-json-file "
                                 "option.")
        self.cancel = p.accepts("cancel", "Cancel an active reassignment.")
        self.list = p.accepts("list", "List all active partition reassignments.")
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: the server(s) to use for bootstrapping.",
                                          arg="required", described_as="Server(s) to use for bootstrapping")
        self.command_config = p.accepts("command-config", "Property file containing configs to be passed to Admin "
                                        "Client.", arg="required", described_as="Admin client property file")
        self.reassignment_json_file = p.accepts(
            "reassignment-json-file", "The JSON file with the partition reassignment configurationThe format to use "
            'is - \n{"partitions":\n\t[{"topic": "foo",\n\t  "partition": 1,\n\t  "replicas": [1,2,3],\n\t  '
            '"log_dirs": ["dir1","dir2","dir3"] }],\n"version":1\n}\nNote that "log_dirs" is optional. When it is '
            "specified, its length must equal the length of the replicas list. The value in this list can be either "
            '"any" or the absolution path of the log directory on the broker. If absolute log directory path is '
            "specified, the replica will be moved to the specified log directory on the broker.", arg="required",
            described_as="manual assignment json file path")
        self.topics_to_move_json_file = p.accepts(
            "topics-to-move-json-file", "Generate a reassignment configuration to move the partitions of the "
            "specified topics to the list of brokers specified by the --broker-list option. The format to use is - "
            '\n{"topics":\n\t[{"topic": "foo"},{"topic": "foo1"}],\n"version":1\n}', arg="required",
            described_as="topics to reassign json file path")
        self.broker_list = p.accepts("broker-list", "The list of brokers to which the partitions need to be "
                                     'reassigned in the form "0,1,2". This is required if --topics-to-move-json-file '
                                     "is used to generate reassignment configuration", arg="required",
                                     described_as="brokerlist")
        self.disable_rack_aware = p.accepts("disable-rack-aware", "Disable rack aware replica assignment")
        self.throttle = p.accepts(
            "throttle", "The movement of partitions between brokers will be throttled to this value (bytes/sec). "
            "This option can be included with --execute when a reassignment is started, and it can be altered by "
            "resubmitting the current reassignment along with the --additional flag. The throttle rate should be at "
            "least 1 KB/s.", arg="required", type="Long", described_as="throttle", default=("-1",))
        self.replica_alter_log_dirs_throttle = p.accepts(
            "replica-alter-log-dirs-throttle", "The movement of replicas between log directories on the same broker "
            "will be throttled to this value (bytes/sec). This option can be included with --execute when a "
            "reassignment is started, and it can be altered by resubmitting the current reassignment along with the "
            "--additional flag. The throttle rate should be at least 1 KB/s.", arg="required", type="Long",
            described_as="replicaAlterLogDirsThrottle", default=("-1",))
        self.timeout = p.accepts("timeout", "The maximum time in ms to wait for log directory replica assignment "
                                 "to begin.", arg="required", type="Long", described_as="timeout",
                                 default=("10000",))
        self.additional = p.accepts("additional", "Execute this reassignment in addition to any other ongoing ones. "
                                    "This option can also be used to change the throttle of an ongoing "
                                    "reassignment.")
        self.preserve_throttles = p.accepts("preserve-throttles", "Do not modify broker or topic throttles.")
        self.opts: OptionSet = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool helps to move topic partitions between replicas.")
        self.action = self._validate()

    def _validate(self) -> Spec:
        """ReassignPartitionsCommand.validateAndParseArgs."""
        o, p = self.opts, self.parser
        actions = [self.generate, self.execute, self.verify, self.cancel, self.list]
        chosen = [a for a in actions if o.has(a)]
        if len(chosen) != 1:
            print_usage_and_exit(p, "Command must include exactly one action: "
                                 + ", ".join(f"--{a.name}" for a in actions))
        action = chosen[0]
        if not o.has(self.bootstrap_server):
            print_usage_and_exit(p, "Please specify --bootstrap-server")
        required = {self.verify: [self.reassignment_json_file],
                    self.generate: [self.topics_to_move_json_file, self.broker_list],
                    self.execute: [self.reassignment_json_file], self.cancel: [self.reassignment_json_file],
                    self.list: []}[action]
        check_required_args(p, o, *required)
        permitted = {self.verify: [self.bootstrap_server, self.command_config, self.preserve_throttles],
                     self.generate: [self.bootstrap_server, self.broker_list, self.command_config,
                                     self.disable_rack_aware],
                     self.execute: [self.additional, self.bootstrap_server, self.command_config, self.throttle,
                                    self.replica_alter_log_dirs_throttle, self.timeout],
                     self.cancel: [self.bootstrap_server, self.command_config, self.preserve_throttles, self.timeout],
                     self.list: [self.bootstrap_server, self.command_config]}[action]
        for spec in self.parser.specs.values():
            if o.has(spec) and spec is not action and spec not in required and spec not in permitted:
                print_usage_and_exit(p, f'Option "{spec}" can\'t be used with action "{action}"')
        return action


# -- JSON ----------------------------------------------------------------------------------------------------------
def format_reassignment_json(parts: dict[TopicPartition, list[int]]) -> str:
    """formatAsReassignmentJson (log_dirs "any"), partitions sorted by topic then partition."""
    return json.dumps({"version": 1, "partitions": [
        {"topic": t, "partition": p, "replicas": parts[(t, p)], "log_dirs": ["any"] * len(parts[(t, p)])}
        for t, p in sorted(parts)]}, separators=(",", ":"))


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise AdminOperationException("The input string is not a valid JSON") from None


def parse_reassignment_data(text: str) -> list[tuple[TopicPartition, list[int]]]:
    """parsePartitionReassignmentData (version 1)."""
    js = _parse_json(text)
    version = js.get("version", 1) if isinstance(js, dict) else 1
    if version != 1:
        raise AdminOperationException(f"Not supported version field value {version}")
    out = []
    for entry in (js.get("partitions") or []) if isinstance(js, dict) else []:
        tp = (str(entry["topic"]), int(entry["partition"]))
        replicas = [int(r) for r in entry["replicas"]]
        log_dirs = entry.get("log_dirs", ["any"] * len(replicas))
        if len(log_dirs) != len(replicas):
            raise AdminCommandFailedException(f"Size of replicas list {_java_list(replicas)} is different from size "
                                              f"of log dirs list {_java_list(log_dirs)} for partition {tp_str(tp)}")
        if any(d != "any" for d in log_dirs):
            raise AdminCommandFailedException("Log directory moves are not supported: Brook brokers have one log "
                                              "directory")
        out.append((tp, replicas))
    return out


def parse_execute_args(text: str) -> dict[TopicPartition, list[int]]:
    parts = parse_reassignment_data(text)
    if not parts:
        raise AdminCommandFailedException("Partition reassignment list cannot be empty")
    if any(not r for _, r in parts):
        raise AdminCommandFailedException("Partition replica list cannot be empty")
    seen = [tp for tp, _ in parts]
    duplicates = sorted({tp for tp in seen if seen.count(tp) > 1})
    if duplicates:
        raise AdminCommandFailedException("Partition reassignment contains duplicate topic partitions: "
                                          + ",".join(map(tp_str, duplicates)))
    dup_entries = [(tp, sorted({r for r in rs if rs.count(r) > 1})) for tp, rs in parts]
    dup_entries = [(tp, d) for tp, d in dup_entries if d]
    if dup_entries:
        raise AdminCommandFailedException("Partition replica lists may not contain duplicate entries: " + ". ".join(
            f"{tp_str(tp)} contains multiple entries for {','.join(map(str, d))}" for tp, d in dup_entries))
    return dict(parts)


def _java_list(items: Iterable[object]) -> str:
    return "[" + ", ".join(map(str, items)) + "]"


def _java_set(items: Iterable[object]) -> str:
    return "[" + ", ".join(map(str, items)) + "]"


# -- the cluster ---------------------------------------------------------------------------------------------------
class Cluster:
    def __init__(self, bootstrap: str, props: dict[str, str]) -> None:
        from brook.cli.clients import admin_client, api_timeout_s

        props.setdefault("client.id", "reassign-partitions-tool")
        self.props = props
        self.admin = admin_client(bootstrap, props)
        self.timeout = api_timeout_s(props)

    def _result(self, future: Any, call: str) -> Any:
        from brook.cli.clients import from_kafka

        try:
            return future.result()
        except Exception as e:
            raise from_kafka(e, call) from None

    def describe_cluster(self) -> Any:
        return self._result(self.admin.describe_cluster(request_timeout=self.timeout), "describeCluster")

    def replicas(self, topics: Iterable[str]) -> dict[TopicPartition, list[int]]:
        from confluent_kafka import TopicCollection

        from brook.cli.clients import from_kafka

        out: dict[TopicPartition, list[int]] = {}
        names = sorted(set(topics))
        if not names:
            return out
        futures = self.admin.describe_topics(TopicCollection(names), request_timeout=self.timeout)
        for name, future in futures.items():
            try:
                description = future.result()
            except Exception as e:
                err = from_kafka(e, "describeTopics")
                if err.java_class.endswith("UnknownTopicOrPartitionException"):
                    raise TerseException(f"org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic "
                                         f"{name} not found.") from None
                raise err from None
            for partition in description.partitions:
                out[(name, partition.id)] = [n.id for n in partition.replicas]
        return out

    def _controller(self, call: str) -> Any:
        from brook.cli.rpc_security import check_security

        check_security(self.props)
        return controller_connection(self.admin, self.timeout, call, self.props)

    def list_reassignments(self, partitions: Iterable[TopicPartition] | None = None
                           ) -> dict[TopicPartition, tuple[list[int], list[int], list[int]]]:
        return list_partition_reassignments(self.admin, self.timeout, partitions, self.props)

    def alter_reassignments(self, targets: dict[TopicPartition, list[int] | None]) -> dict[TopicPartition, str]:
        """Each failed partition's error message (Throwable.getMessage())."""
        from kio.schema.alter_partition_reassignments.v0.request import (
            AlterPartitionReassignmentsRequest,
            ReassignablePartition,
            ReassignableTopic,
        )
        from kio.schema.alter_partition_reassignments.v0.response import AlterPartitionReassignmentsResponse
        from kio.schema.types import BrokerId, TopicName
        from kio.static.primitive import i32, i32Timedelta

        from brook.cli.clients import error_for_code
        from brook.cli.kafka_rpc import call

        by_topic: dict[str, list[ReassignablePartition]] = {}
        for (t, p), replicas in sorted(targets.items()):
            by_topic.setdefault(t, []).append(ReassignablePartition(
                partition_index=i32(p), replicas=None if replicas is None else tuple(BrokerId(r) for r in replicas)))
        request = AlterPartitionReassignmentsRequest(
            timeout=i32Timedelta.parse(datetime.timedelta(seconds=self.timeout)),
            topics=tuple(ReassignableTopic(name=TopicName(t), partitions=tuple(ps)) for t, ps in by_topic.items()))
        with self._controller("alterPartitionReassignments") as conn:
            response = call(conn, request, AlterPartitionReassignmentsResponse, "alterPartitionReassignments")
        if response.error_code:
            raise error_for_code(int(response.error_code), response.error_message or "")
        return {(str(t.name), int(p.partition_index)): error_for_code(int(p.error_code), p.error_message or "").message
                for t in response.responses for p in t.partitions if p.error_code}

    def alter_configs(self, resources: list[Any]) -> None:
        """One call per broker resource (librdkafka sends each to its broker, one per request)."""
        from confluent_kafka.admin import ResourceType

        brokers = [r for r in resources if r.restype == ResourceType.BROKER]
        batches = [[r] for r in brokers] + ([[r for r in resources if r not in brokers]]
                                            if len(brokers) < len(resources) else [])
        for batch in batches:
            for future in self.admin.incremental_alter_configs(batch, request_timeout=self.timeout).values():
                self._result(future, "incrementalAlterConfigs")


def controller_connection(admin: Any, timeout_s: float, call: str, security: dict[str, str] | None = None) -> Any:
    """A kafka_rpc connection to the controller DescribeCluster names (where the Java Admin sends these calls);
    `security`: the tool's client properties (TLS and SASL)."""
    from brook.cli.clients import from_kafka
    from brook.cli.kafka_rpc import connect

    try:
        controller = admin.describe_cluster(request_timeout=timeout_s).result().controller
    except Exception as e:
        raise from_kafka(e, "describeCluster") from None
    return connect(controller.host, controller.port, time.monotonic() + timeout_s, call, security)


def list_partition_reassignments(admin: Any, timeout_s: float, partitions: Iterable[TopicPartition] | None = None,
                                 security: dict[str, str] | None = None
                                 ) -> dict[TopicPartition, tuple[list[int], list[int], list[int]]]:
    """Admin.listPartitionReassignments: (replicas, adding, removing) of each ongoing reassignment."""
    from kio.schema.list_partition_reassignments.v0.request import (
        ListPartitionReassignmentsRequest,
        ListPartitionReassignmentsTopics,
    )
    from kio.schema.list_partition_reassignments.v0.response import ListPartitionReassignmentsResponse
    from kio.schema.types import TopicName
    from kio.static.primitive import i32, i32Timedelta

    from brook.cli.clients import error_for_code
    from brook.cli.kafka_rpc import call

    topics = None
    if partitions is not None:
        by_topic: dict[str, list[int]] = {}
        for t, p in partitions:
            by_topic.setdefault(t, []).append(p)
        topics = tuple(ListPartitionReassignmentsTopics(name=TopicName(t), partition_indexes=tuple(
            i32(p) for p in ps)) for t, ps in sorted(by_topic.items()))
    timeout = i32Timedelta.parse(datetime.timedelta(seconds=timeout_s))
    request = ListPartitionReassignmentsRequest(timeout=timeout, topics=topics)
    with controller_connection(admin, timeout_s, "listPartitionReassignments", security) as conn:
        response = call(conn, request, ListPartitionReassignmentsResponse, "listPartitionReassignments")
    if response.error_code:
        raise error_for_code(int(response.error_code), response.error_message or "")
    return {(str(t.name), int(p.partition_index)): ([int(r) for r in p.replicas],
                                                    [int(r) for r in p.adding_replicas],
                                                    [int(r) for r in p.removing_replicas])
            for t in response.topics for p in t.partitions}


def _config_resource(kind: str, name: str, entries: dict[str, str | None]) -> Any:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

    ops = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET if v is not None
                       else AlterConfigOpType.DELETE) for k, v in entries.items()]
    return ConfigResource(kind, name, incremental_configs=ops)


# -- actions -------------------------------------------------------------------------------------------------------
def generate(c: Cluster, topics_json: str, broker_list: str, rack_aware: bool) -> None:
    from brook.cluster.assignment import assign_replicas

    brokers = [int(b) for b in broker_list.split(",")]
    dup = sorted({b for b in brokers if brokers.count(b) > 1})
    if dup:
        raise AdminCommandFailedException(f"Broker list contains duplicate entries: {_java_set(dup)}")
    js = _parse_json(topics_json)
    version = js.get("version", 1) if isinstance(js, dict) else 1
    if version != 1:
        raise AdminOperationException(f"Not supported version field value {version}")
    topics = [str(t["topic"]) for t in (js.get("topics") or [])]
    dup_topics = sorted({t for t in topics if topics.count(t) > 1})
    if dup_topics:
        raise AdminCommandFailedException(f"List of topics to reassign contains duplicate entries: "
                                          f"{_java_set(dup_topics)}")
    current = c.replicas(topics)
    wanted = set(brokers)
    nodes = {n.id: (n.rack if rack_aware else None) for n in c.describe_cluster().nodes if n.id in wanted}
    rackless = sum(1 for r in nodes.values() if r is None)
    if rack_aware and rackless not in (0, len(nodes)):
        raise AdminOperationException("Not all brokers have rack information. Add --disable-rack-aware in command "
                                      "line to make replica assignment without rack information.")
    proposed: dict[TopicPartition, list[int]] = {}
    for topic in sorted({t for t, _ in current}):
        parts = sorted(p for t, p in current if t == topic)
        for p, replicas in enumerate(assign_replicas(len(parts), len(current[(topic, parts[0])]), nodes)):
            proposed[(topic, p)] = replicas
    print(f"Current partition replica assignment\n{format_reassignment_json(current)}\n")
    print(f"Proposed partition reassignment configuration\n{format_reassignment_json(proposed)}")


def _moves(current_reassignments: dict[TopicPartition, tuple[list[int], list[int], list[int]]],
           proposed: dict[TopicPartition, list[int]], current: dict[TopicPartition, list[int]]
           ) -> dict[TopicPartition, tuple[set[int], set[int]]]:
    """calculateProposedMoveMap: (sources, destinations) per moving partition."""
    moves = {tp: (set(r) - set(a), set(a)) for tp, (r, a, _) in current_reassignments.items()}
    for tp, replicas in proposed.items():
        sources = moves[tp][0] if tp in moves else set(current[tp])
        moves[tp] = (sources, set(replicas) - sources)
    return moves


def execute(c: Cluster, additional: bool, text: str, throttle: int) -> None:
    proposed = parse_execute_args(text)
    ongoing = c.list_reassignments()
    if not additional and ongoing:
        raise TerseException(CANNOT_EXECUTE)
    known = {n.id for n in c.describe_cluster().nodes}
    unknown = next((b for rs in proposed.values() for b in rs if b not in known), None)
    if unknown is not None:
        raise AdminCommandFailedException(f"Unknown broker id {unknown}")
    current = c.replicas(t for t, _ in proposed)
    missing = [tp for tp in proposed if tp not in current]
    if missing:
        raise TerseException("org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Unable to find "
                             "partition: " + ", ".join(map(tp_str, missing)))
    print("Current partition replica assignment\n\n"
          f"{format_reassignment_json({tp: current[tp] for tp in proposed})}\n\n"
          "Save this to use as the --reassignment-json-file option during rollback")
    if throttle >= 0:
        print(VERIFY_WARNING)
        moves = _moves(ongoing, proposed, current)
        leader: dict[str, set[str]] = {}
        follower: dict[str, set[str]] = {}
        for (t, p), (sources, destinations) in moves.items():
            leader.setdefault(t, set()).update(f"{p}:{s}" for s in sources)
            follower.setdefault(t, set()).update(f"{p}:{d}" for d in destinations if d not in sources)
        c.alter_configs([_config_resource("topic", t, {
            "leader.replication.throttled.replicas": ",".join(sorted(leader[t])),
            "follower.replication.throttled.replicas": ",".join(sorted(follower[t]))}) for t in sorted(leader)])
        brokers = sorted({b for s, d in moves.values() for b in s | d})
        c.alter_configs([_config_resource("broker", str(b), {
            "leader.replication.throttled.rate": str(throttle),
            "follower.replication.throttled.rate": str(throttle)}) for b in brokers])
        print(f"The inter-broker throttle limit was set to {throttle} B/s")
    errors = c.alter_reassignments(dict(proposed))
    if errors:
        raise TerseException("Error reassigning partition(s):\n" + "\n".join(
            f"{tp_str(tp)}: {errors[tp]}" for tp in sorted(errors)))
    print(f"Successfully started partition reassignment{'' if len(proposed) == 1 else 's'} for "
          + ",".join(tp_str(tp) for tp in sorted(proposed)))


def verify(c: Cluster, text: str, preserve_throttles: bool) -> None:
    targets = parse_reassignment_data(text)
    ongoing = c.list_reassignments()
    lines = ["Status of partition reassignment:"]
    current = c.replicas({tp[0] for tp, _ in targets if tp not in ongoing})
    for tp, target in sorted(targets):
        if tp in ongoing:
            lines.append(f"Reassignment of partition {tp_str(tp)} is still in progress.")
        elif current.get(tp, []) == target:
            lines.append(f"Reassignment of partition {tp_str(tp)} is completed.")
        else:
            lines.append(f"There is no active reassignment of partition {tp_str(tp)}, but replica set is "
                         f"{','.join(map(str, current.get(tp, [])))} rather than {','.join(map(str, target))}.")
    print("\n".join(lines))
    print()  # the (empty) log-directory moves' report
    if not ongoing and not preserve_throttles:
        clear_throttles(c, targets)


def clear_throttles(c: Cluster, targets: list[tuple[TopicPartition, list[int]]]) -> None:
    brokers = sorted({n.id for n in c.describe_cluster().nodes} | {b for _, rs in targets for b in rs})
    print(f"Clearing broker-level throttles on broker{'' if len(brokers) == 1 else 's'} "
          + ",".join(map(str, brokers)))
    known = {n.id for n in c.describe_cluster().nodes}
    c.alter_configs([_config_resource("broker", str(b), dict.fromkeys(BROKER_THROTTLES)) for b in brokers
                     if b in known])
    topics = sorted({t for (t, _), _ in targets})
    print(f"Clearing topic-level throttles on topic{'' if len(topics) == 1 else 's'} {','.join(topics)}")
    c.alter_configs([_config_resource("topic", t, dict.fromkeys(TOPIC_THROTTLES)) for t in topics])


def cancel(c: Cluster, text: str, preserve_throttles: bool) -> None:
    targets = parse_reassignment_data(text)
    ongoing = c.list_reassignments([tp for tp, _ in targets])
    parts = sorted(ongoing)  # every ongoing one (3.9's Java port skips those only adding replicas: a slip)
    if parts:
        errors = c.alter_reassignments(dict.fromkeys(parts))
        if errors:
            raise TerseException(f"Error cancelling partition reassignment{'' if len(errors) == 1 else 's'} for:\n"
                                 + "\n".join(f"{tp_str(tp)}: {errors[tp]}" for tp in sorted(errors)))
        print(f"Successfully cancelled partition reassignment{'' if len(parts) == 1 else 's'} for: "
              + ",".join(map(tp_str, parts)))
    else:
        print("None of the specified partition reassignments are active.")
    sys.stdout.write("None of the specified partition moves are active.")
    if not preserve_throttles:
        clear_throttles(c, targets)


def list_reassignments(c: Cluster) -> None:
    ongoing = c.list_reassignments()
    lines = []
    for tp in sorted(ongoing):
        replicas, adding, removing = ongoing[tp]
        lines.append(f"{tp_str(tp)}: replicas: {','.join(map(str, replicas))}."
                     + (f" adding: {','.join(map(str, adding))}." if adding else "")
                     + (f" removing: {','.join(map(str, removing))}." if removing else ""))
    print("Current partition reassignments:\n" + "\n".join(lines) if lines else "No partition reassignments found.")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise AdminOperationException(f"java.nio.file.NoSuchFileException: {path}") from None


def run(o: Options) -> None:
    opts = o.opts
    props = load_props(str(opts.value_of(o.command_config))) if opts.has(o.command_config) else {}
    c = Cluster(str(opts.value_of(o.bootstrap_server)), props)
    if o.action is o.verify:
        verify(c, _read(str(opts.value_of(o.reassignment_json_file))), opts.has(o.preserve_throttles))
    elif o.action is o.generate:
        generate(c, _read(str(opts.value_of(o.topics_to_move_json_file))), str(opts.value_of(o.broker_list)),
                 not opts.has(o.disable_rack_aware))
    elif o.action is o.execute:
        if int(opts.value_of(o.replica_alter_log_dirs_throttle)) >= 0:
            raise AdminCommandFailedException("--replica-alter-log-dirs-throttle is not supported: Brook brokers "
                                              "have one log directory")
        execute(c, opts.has(o.additional), _read(str(opts.value_of(o.reassignment_json_file))),
                int(opts.value_of(o.throttle)))
    elif o.action is o.cancel:
        cancel(c, _read(str(opts.value_of(o.reassignment_json_file))), opts.has(o.preserve_throttles))
    else:
        list_reassignments(c)


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    o = Options(sys.argv[1:] if argv is None else argv)
    try:
        run(o)
        return 0
    except TerseException as e:
        print(e)
    except Exception as e:  # ReassignPartitionsCommand.main: "Error: " and the message (then Java's stack trace)
        print(f"Error: {e}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
