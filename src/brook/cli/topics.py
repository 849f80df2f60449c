"""kafka-topics: create, list, describe, alter and delete topics, as Kafka's TopicCommand (tools, Kafka 3.9)."""

from __future__ import annotations

import builtins
import re
import sys
from collections.abc import Sequence
from typing import Any

from brook.cli.options import (
    OptionError,
    OptionParser,
    check_invalid_args,
    check_required_args,
    entry_point,
    load_props,
    log,
    maybe_print_help_or_version,
    print_usage_and_exit,
)
from brook.internal_topics import KAFKA_INTERNAL_TOPICS

LOGGER = "org.apache.kafka.tools.TopicCommand"
# LogConfig.configNames() of Kafka 3.9, listed in --config's help
TOPIC_CONFIG_NAMES = (
    "cleanup.policy", "compression.gzip.level", "compression.lz4.level", "compression.type",
    "compression.zstd.level", "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms",
    "follower.replication.throttled.replicas", "index.interval.bytes", "leader.replication.throttled.replicas",
    "local.retention.bytes", "local.retention.ms", "max.compaction.lag.ms", "max.message.bytes",
    "message.downconversion.enable", "message.format.version", "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms", "message.timestamp.difference.max.ms", "message.timestamp.type",
    "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate",
    "remote.log.copy.disable", "remote.log.delete.on.disable", "remote.storage.enable", "retention.bytes",
    "retention.ms", "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms",
    "unclean.leader.election.enable")
CONFIGS_CLI = " (the kafka-configs CLI supports altering topic configs with a --bootstrap-server option)"


class IllegalArgument(Exception):
    """java.lang.IllegalArgumentException (and the other plain exceptions TopicCommand throws)."""

    def java(self) -> str:
        return f"java.lang.IllegalArgumentException: {self}"


class TopicCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: The Kafka server to connect to.",
                                          arg="required", described_as="server to connect to")
        self.command_config = p.accepts(
            "command-config", "Property file containing configs to be passed to Admin Client. This is used only "
            "with --bootstrap-server option for describing and altering broker configs.",
            arg="required", described_as="command config property file")
        self.list = p.accepts("list", "List all available topics.")
        self.create = p.accepts("create", "Create a new topic.")
        self.delete = p.accepts("delete", "Delete a topic")
        self.alter = p.accepts("alter", "Alter the number of partitions and replica assignment. Update the "
                               "configuration of an existing topic via --alter is no longer supported here"
                               + CONFIGS_CLI + ".")
        self.describe = p.accepts("describe", "List details for the given topics.")
        self.topic = p.accepts(
            "topic", "The topic to create, alter, describe or delete. It also accepts a regular expression, "
            "except for --create option. Put topic name in double quotes and use the '\\' prefix to escape regular "
            "expression symbols; e.g. \"test\\.topic\".", arg="required", described_as="topic")
        self.topic_id = p.accepts("topic-id", "The topic-id to describe.This is used only with --bootstrap-server "
                                  "option for describing topics.", arg="required", described_as="topic-id")
        self.config = p.accepts(
            "config", "A topic configuration override for the topic being created. The following is a list of "
            "valid configurations: \n" + "\n".join("\t" + n for n in TOPIC_CONFIG_NAMES) + "\nSee the Kafka "
            "documentation for full details on the topic configs. It is supported only in combination with "
            "--create if --bootstrap-server option is used" + CONFIGS_CLI + ".",
            arg="required", described_as="name=value")
        self.delete_config = p.accepts(
            "delete-config", "A topic configuration override to be removed for an existing topic (see the list of "
            "configurations under the --config option). Not supported with the --bootstrap-server option.",
            arg="required", described_as="name")
        self.partitions = p.accepts(
            "partitions", "The number of partitions for the topic being created or altered (WARNING: If partitions "
            "are increased for a topic that has a key, the partition logic or ordering of the messages will be "
            "affected). If not supplied for create, defaults to the cluster default.",
            arg="required", type="Integer", described_as="# of partitions")
        self.replication_factor = p.accepts(
            "replication-factor", "The replication factor for each partition in the topic being created. If not "
            "supplied, defaults to the cluster default.", arg="required", type="Integer",
            described_as="replication factor")
        self.replica_assignment = p.accepts(
            "replica-assignment", "A list of manual partition-to-broker assignments for the topic being created or "
            "altered.", arg="required", described_as="broker_id_for_part1_replica1 : broker_id_for_part1_replica2 "
            ", broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ...")
        self.under_replicated = p.accepts("under-replicated-partitions",
                                          "if set when describing topics, only show under replicated partitions")
        self.unavailable = p.accepts("unavailable-partitions", "if set when describing topics, only show partitions "
                                     "whose leader is not available")
        self.under_min_isr = p.accepts("under-min-isr-partitions", "if set when describing topics, only show "
                                       "partitions whose isr count is less than the configured minimum.")
        self.at_min_isr = p.accepts("at-min-isr-partitions", "if set when describing topics, only show partitions "
                                    "whose isr count is equal to the configured minimum.")
        self.with_overrides = p.accepts("topics-with-overrides",
                                        "if set when describing topics, only show topics that have overridden configs")
        self.if_exists = p.accepts("if-exists", "if set when altering or deleting or describing topics, the action "
                                   "will only execute if the topic exists.")
        self.if_not_exists = p.accepts("if-not-exists", "if set when creating topics, the action will only execute "
                                       "if the topic does not already exist.")
        self.exclude_internal = p.accepts("exclude-internal", "exclude internal topics when running list or describe "
                                          "command. The internal topics will be listed by default")
        self.partition_size_limit = p.accepts(
            "partition-size-limit-per-response", "the maximum partition size to be included in one "
            "DescribeTopicPartitions response.", arg="required", type="Integer",
            described_as="maximum number of partitions in one response.")
        self.opts = p.parse(args)
        self.check_args()

    def check_args(self) -> None:
        p, o = self.parser, self.opts
        if not o.args:
            print_usage_and_exit(p, "Create, delete, describe, or change a topic.")
        maybe_print_help_or_version(p, o, "This tool helps to create, delete, describe, or change a topic.")
        actions = [self.create, self.list, self.alter, self.describe, self.delete]
        if sum(o.has(a) for a in actions) != 1:
            print_usage_and_exit(p, "Command must include exactly one action: --list, --describe, --create, "
                                 "--alter or --delete")
        # checkRequiredArgs
        if not o.has(self.bootstrap_server):
            raise IllegalArgument("--bootstrap-server must be specified")
        if o.has(self.describe) and o.has(self.if_exists):
            if not o.has(self.topic) and not o.has(self.topic_id):
                print_usage_and_exit(p, "--topic or --topic-id is required to describe a topic")
            if o.has(self.topic) and o.has(self.topic_id):
                print("Only topic id will be used when both --topic and --topic-id are specified and topicId is "
                      "not Uuid.ZERO_UUID")
        if not o.has(self.list) and not o.has(self.describe):
            check_required_args(p, o, self.topic)
        if o.has(self.alter):
            if o.has(self.config):  # checkInvalidArgsSet([bootstrap-server, config], [alter])
                print_usage_and_exit(p, f'Option combination "[{self.bootstrap_server}, {self.config}]" can\'t be '
                                     f'used with option "{self.alter}"{CONFIGS_CLI}')
            check_required_args(p, o, self.partitions)

        # checkInvalidArgs: each option against the actions it does not go with
        def others(*allowed: Any) -> list:
            return [a for a in actions if a not in allowed]

        check_invalid_args(p, o, self.config, others(self.alter, self.create))
        check_invalid_args(p, o, self.delete_config, [self.bootstrap_server, *others(self.alter)])
        check_invalid_args(p, o, self.partitions, others(self.alter, self.create))
        check_invalid_args(p, o, self.replication_factor, others(self.create))
        check_invalid_args(p, o, self.replica_assignment, others(self.alter, self.create))
        if o.has(self.create):
            check_invalid_args(p, o, self.replica_assignment, [self.partitions, self.replication_factor])
        reports = [self.under_replicated, self.under_min_isr, self.at_min_isr, self.unavailable]
        for report in reports:
            check_invalid_args(p, o, report, [*others(self.describe, report), self.with_overrides])
        check_invalid_args(p, o, self.with_overrides, [*others(self.describe), *reports])
        check_invalid_args(p, o, self.if_exists, others(self.alter, self.delete, self.describe))
        check_invalid_args(p, o, self.if_not_exists, others(self.create))
        check_invalid_args(p, o, self.exclude_internal, others(self.list, self.describe))


def parse_replica_assignment(text: str) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i, part in enumerate(text.split(",")):
        brokers = []
        for b in part.split(":"):
            if not re.fullmatch(r"[+-]?[0-9]+", b.strip()):
                raise IllegalArgument(f'For input string: "{b.strip()}"')  # NumberFormatException
            brokers.append(int(b.strip()))
        duplicates = sorted({b for b in brokers if brokers.count(b) > 1})
        if duplicates:  # AdminCommandFailedException
            raise IllegalArgument("Partition replica lists may not contain duplicate entries: "
                                  + ",".join(map(str, duplicates)))
        out[i] = brokers
        if len(brokers) != len(out[0]):  # AdminOperationException
            raise IllegalArgument(f"Partition {i} has different replication factor: [{', '.join(map(str, brokers))}]")
    return out


def parse_topic_configs(values: list[str]) -> dict[str, str]:
    pairs = [re.split(r"\s*=\s*", v) for v in values]
    pairs = [p[:-1] if len(p) > 1 and p[-1] == "" else p for p in pairs]  # Java's split drops a trailing ""
    if not all(len(p) == 2 for p in pairs):
        raise IllegalArgument('requirement failed: Invalid topic config: all configs to be added must be in the '
                              'format "key=val".')
    return {k.strip(): v.strip() for k, v in pairs}


class TopicService:
    def __init__(self, admin: Any, timeout_s: float, security: dict[str, str] | None = None) -> None:
        self.admin = admin
        self.timeout = timeout_s
        self.security = security  # the client properties: DescribeTopicPartitions goes through kafka_rpc

    def _wait(self, future: Any, call: str) -> Any:
        from confluent_kafka import KafkaException

        from brook.cli.clients import from_kafka

        try:
            return future.result()
        except KafkaException as e:
            raise from_kafka(e, call) from None

    def get_topics(self, include: str | None, exclude_internal: bool) -> list[str]:
        from confluent_kafka import KafkaException

        from brook.cli.clients import from_kafka

        try:
            names = sorted(self.admin.list_topics(timeout=self.timeout).topics)
        except KafkaException as e:
            raise from_kafka(e, "listTopics") from None
        if include is not None:
            regex = include.strip().replace(",", "|").replace(" ", "")
            regex = re.sub(r"[\"']+$", "", re.sub(r"^[\"']+", "", regex))
            try:
                pattern = re.compile(regex)
            except re.error:
                raise IllegalArgument(f"{regex} is an invalid regex.") from None
            names = [n for n in names if pattern.fullmatch(n)]
        return [n for n in names if not (exclude_internal and n in KAFKA_INTERNAL_TOPICS)]

    def create(self, o: TopicCommandOptions) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import NewTopic

        from brook.cli.clients import from_kafka

        opts = o.opts
        name = opts.value_of(o.topic)
        partitions = opts.value_of(o.partitions)
        rf = opts.value_of(o.replication_factor)
        assignment = (parse_replica_assignment(opts.value_of(o.replica_assignment))
                      if opts.has(o.replica_assignment) and opts.value_of(o.replica_assignment) else {})
        configs = parse_topic_configs(opts.values_of(o.config))
        if "_" in name or "." in name:
            print("WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') "
                  "could collide. To avoid issues it is best to use either, but not both.")
        if rf is not None and not 1 <= rf <= 32767:
            raise IllegalArgument("The replication factor must be between 1 and 32767 inclusive")
        if partitions is not None and partitions < 1:
            raise IllegalArgument("The partitions must be greater than 0")
        if assignment:
            new = NewTopic(name, num_partitions=len(assignment), replication_factor=-1,
                           replica_assignment=list(assignment.values()),
                           config=configs)
        else:
            new = NewTopic(name, num_partitions=-1 if partitions is None else partitions,
                           replication_factor=-1 if rf is None else rf, config=configs)
        future = self.admin.create_topics([new], request_timeout=self.timeout)[name]
        try:
            future.result()
        except KafkaException as e:
            error = from_kafka(e, "createTopics")
            if error.code == 36 and opts.has(o.if_not_exists):
                return
            raise error from None
        print(f"Created topic {name}.")

    def list(self, o: TopicCommandOptions) -> None:
        print("\n".join(self.get_topics(o.opts.value_of(o.topic), o.opts.has(o.exclude_internal))))

    def alter(self, o: TopicCommandOptions) -> None:
        from confluent_kafka.admin import NewPartitions

        opts = o.opts
        requested = opts.value_of(o.topic)
        count = opts.value_of(o.partitions)
        assignment = (parse_replica_assignment(opts.value_of(o.replica_assignment))
                      if opts.has(o.replica_assignment) and opts.value_of(o.replica_assignment) else {})
        parse_topic_configs(opts.values_of(o.config))
        topics = self.get_topics(requested, opts.has(o.exclude_internal))
        ensure_topic_exists(topics, requested, not opts.has(o.if_exists))
        if not topics:
            return
        current = {td.name: len(td.partitions) for td in self.describe_topics(topics)}
        new_parts = []
        for t in topics:
            extra = [b for i, b in assignment.items() if i >= current[t]] if assignment else None
            new_parts.append(NewPartitions(t, count, extra) if extra else NewPartitions(t, count))
        for future in self.admin.create_partitions(new_parts, request_timeout=self.timeout).values():
            self._wait(future, "createPartitions")

    def delete(self, o: TopicCommandOptions) -> None:
        requested = o.opts.value_of(o.topic)
        topics = self.get_topics(requested, o.opts.has(o.exclude_internal))
        ensure_topic_exists(topics, requested, not o.opts.has(o.if_exists))
        if topics:
            for future in self.admin.delete_topics(topics, request_timeout=self.timeout).values():
                self._wait(future, "deleteTopics")

    def describe_topics(self, topics: builtins.list[str]) -> builtins.list[Any]:  # list: the method above
        from confluent_kafka import TopicCollection

        futures = self.admin.describe_topics(TopicCollection(topics), request_timeout=self.timeout)
        return [self._wait(futures[t], "describeTopics") for t in topics]

    def describe(self, o: TopicCommandOptions) -> None:
        from confluent_kafka.admin import ConfigResource

        from brook.cli.topics_describe import describe_topic_partitions, from_admin

        opts = o.opts
        exclude_internal = opts.has(o.exclude_internal)
        wanted_id = opts.value_of(o.topic_id)
        cluster = None
        if wanted_id is not None and wanted_id != "AAAAAAAAAAAAAAAAAAAAAA":  # by id: the Metadata API, as Java's
            found = [d for d in map(from_admin, self.describe_topics(self.get_topics(None, exclude_internal)))
                     if d.topic_id == wanted_id]
            if not found and not opts.has(o.if_exists):
                raise IllegalArgument(f"TopicId '{wanted_id}' does not exist as expected")
            descriptions = found
        else:
            requested = opts.value_of(o.topic)
            topics = self.get_topics(requested, exclude_internal)
            ensure_topic_exists(topics, requested, not opts.has(o.if_exists))
            descriptions = []
            if topics:  # Admin.describeTopics: the cluster's brokers first, then DescribeTopicPartitions
                cluster = self._wait(self.admin.describe_cluster(request_timeout=self.timeout), "describeCluster")
                limit = opts.value_of(o.partition_size_limit)
                described = None
                if cluster.nodes:
                    described = describe_topic_partitions(cluster.nodes[0], topics, 2000 if limit is None else limit,
                                                          {n.id for n in cluster.nodes}, self.timeout, self.security)
                descriptions = [described[t] for t in topics] if described is not None \
                    else list(map(from_admin, self.describe_topics(topics)))
        if not descriptions:
            return
        resources = [ConfigResource("topic", td.name) for td in descriptions]
        configs = {r.name: self._wait(f, "describeConfigs")
                   for r, f in self.admin.describe_configs(resources, request_timeout=self.timeout).items()}
        if cluster is None:
            cluster = self._wait(self.admin.describe_cluster(request_timeout=self.timeout), "describeCluster")
        live = {n.id for n in cluster.nodes}
        reassignments = self.reassignments([(td.name, p.id) for td in descriptions for p in td.partitions])
        reports = [opts.has(s) for s in (o.unavailable, o.under_replicated, o.under_min_isr, o.at_min_isr)]
        describe_configs, describe_partitions = not any(reports), not opts.has(o.with_overrides)
        for td in descriptions:
            config = configs[td.name]
            overrides = ",".join(f"{e.name}={e.value}" for e in config.values() if not e.is_default)
            parts = sorted(td.partitions, key=lambda p: p.id)
            if describe_configs and (not opts.has(o.with_overrides) or overrides):
                rf = replication_factor(parts[0].replicas, reassignments.get((td.name, parts[0].id)))
                print(f"Topic: {td.name}"
                      + (f"\tTopicId: {td.topic_id}" if td.topic_id != "AAAAAAAAAAAAAAAAAAAAAA" else "")
                      + f"\tPartitionCount: {len(parts)}\tReplicationFactor: {rf}"
                      + f"\tConfigs: {overrides}")
            if not describe_partitions:
                continue
            min_isr = int(config["min.insync.replicas"].value) if "min.insync.replicas" in config else 1
            for part in parts:
                leader = part.leader
                moving = reassignments.get((td.name, part.id))
                show = describe_configs or (
                    (reports[0] and (leader is None or leader not in live))
                    or (reports[1] and replication_factor(part.replicas, moving) > len(part.isr))
                    or (reports[2] and (leader is None or len(part.isr) < min_isr))
                    or (reports[3] and len(part.isr) == min_isr))
                if show:
                    print(f"\tTopic: {td.name}\tPartition: {part.id}\tLeader: {'none' if leader is None else leader}"
                          f"\tReplicas: {_ids(part.replicas)}\tIsr: {_ids(part.isr)}"
                          + ("" if moving is None else
                             f"\tAdding Replicas: {_ids(moving[1])}\tRemoving Replicas: {_ids(moving[2])}")
                          + f"\tElr: {_ids(part.elr)}\tLastKnownElr: {_ids(part.last_known_elr)}")

    def reassignments(self, partitions: builtins.list[tuple[str, int]]
                      ) -> dict[tuple[str, int], tuple[builtins.list[int], ...]]:
        """TopicService.listAllReassignments: none when the cluster cannot say (an old or refusing broker)."""
        from brook.cli.clients import ToolError
        from brook.cli.reassign_partitions import list_partition_reassignments

        if not partitions:
            return {}
        try:
            return dict(list_partition_reassignments(self.admin, self.timeout, partitions, self.security))
        except ToolError as e:
            if e.java_class.endswith(("UnsupportedVersionException", "ClusterAuthorizationException")):
                return {}
            raise


def replication_factor(replicas: list[int], reassignment: tuple[list[int], ...] | None) -> int:
    """getReplicationFactor: while a reassignment is in progress, its replicas less the ones being added."""
    if reassignment is not None and set(replicas) & (set(reassignment[1]) | set(reassignment[2])):
        return len(reassignment[0]) - len(reassignment[1])
    return len(replicas)


def _ids(nodes: list[int] | None) -> str:
    """PartitionDescription.printDescription: ids joined by commas; N/A for ELR lists the Metadata API lacks."""
    return "N/A" if nodes is None else ",".join(map(str, nodes))


def ensure_topic_exists(found: list[str], requested: str | None, require: bool) -> None:
    if requested and require and not found:
        # TopicCommand formats the Optional itself, hence "Optional[...]" (TopicCommand.java ensureTopicExists)
        raise IllegalArgument(f"Topic 'Optional[{requested}]' does not exist as expected")


def execute(args: Sequence[str]) -> int:
    o = TopicCommandOptions(args)
    props = load_props(o.opts.value_of(o.command_config)) if o.opts.has(o.command_config) else {}
    from brook.cli.clients import ToolError, admin_client, api_timeout_s

    service = TopicService(admin_client(o.opts.value_of(o.bootstrap_server), props), api_timeout_s(props), props)
    action = next(a for a in ("create", "alter", "list", "describe", "delete") if o.opts.has(getattr(o, a)))
    try:
        getattr(service, action)(o)
        return 0
    except (ToolError, IllegalArgument, OptionError) as e:
        print(f"Error while executing topic command : {e}")
        log("ERROR", e.java(), LOGGER)
        return 1
    except (ValueError, TypeError) as e:  # confluent-kafka refusing an argument
        print(f"Error while executing topic command : {e}")
        log("ERROR", f"java.lang.IllegalArgumentException: {e}", LOGGER)
        return 1


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        return execute(sys.argv[1:] if argv is None else argv)
    except (OptionError, IllegalArgument, OSError) as e:  # TopicCommand.mainNoExit: message, then the stack trace
        print(e, file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except Exception as e:  # ToolError from creating the admin client
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
