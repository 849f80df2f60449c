"""kafka-leader-election: preferred or unclean leader elections, as Kafka 3.9's LeaderElectionCommand (tools),
through confluent-kafka's AdminClient.elect_leaders (ElectLeaders to the controller)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from brook.cli.options import OptionParser, entry_point, load_props, maybe_print_help_or_version

ELECTION_TYPES = ("PREFERRED", "UNCLEAN")


class AdminCommandFailedException(Exception):
    pass


class AdminOperationException(Exception):
    pass


class LeaderElectionCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.bootstrap_server = p.accepts(
            "bootstrap-server", "A hostname and port for the broker to connect to, in the form host:port. Multiple "
            "comma separated URLs can be given. REQUIRED.", arg="required", described_as="host:port")
        self.admin_config = p.accepts("admin.config", "Configuration properties files to pass to the admin client",
                                      arg="required", described_as="config file")
        self.path_to_json_file = p.accepts(
            "path-to-json-file", "The JSON file with the list  of partition for which leader elections should be "
            'performed. This is an example format. \n{"partitions":\n\t[{"topic": "foo", "partition": 1},\n\t '
            '{"topic": "foobar", "partition": 2}]\n}\nNot allowed if --all-topic-partitions or --topic flags are '
            "specified.", arg="required", described_as="Path to JSON file")
        self.topic = p.accepts("topic", "Name of topic for which to perform an election. Not allowed if "
                               "--path-to-json-file or --all-topic-partitions is specified.", arg="required",
                               described_as="topic name")
        self.partition = p.accepts("partition", "Partition id for which to perform an election. REQUIRED if --topic "
                                   "is specified.", arg="required", type="Integer", described_as="partition id")
        self.all_topic_partitions = p.accepts(
            "all-topic-partitions", "Perform election on all of the eligible topic partitions based on the type of "
            "election (see the --election-type flag). Not allowed if --topic or --path-to-json-file is specified.")
        self.election_type = p.accepts(
            "election-type", 'Type of election to attempt. Possible values are "preferred" for preferred leader '
            'election or "unclean" for unclean leader election. If preferred election is selection, the election is '
            "only performed if the current leader is not the preferred leader for the topic partition. If unclean "
            "election is selected, the election is only performed if there are no leader for the topic partition. "
            "REQUIRED.", arg="required", described_as="election type")
        self.opts = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool attempts to elect a new leader for a set of topic "
                                    "partitions. The type of elections supported are preferred replicas and unclean "
                                    "replicas.")

    def validate(self) -> str:
        """LeaderElectionCommandOptions.validate; the election type, as ElectionType's enum converter reads it."""
        o = self.opts
        missing = [s.name for s in (self.bootstrap_server, self.election_type) if not o.has(s)]
        if missing:
            raise AdminCommandFailedException("Missing required option(s): " + ", ".join(missing))
        exclusive = (self.topic, self.all_topic_partitions, self.path_to_json_file)
        if sum(1 for s in exclusive if o.has(s)) != 1:
            raise AdminCommandFailedException("One and only one of the following options is required: "
                                              + ", ".join(s.name for s in exclusive))
        if o.has(self.topic) and not o.has(self.partition):
            raise AdminCommandFailedException("Missing required option(s): partition")
        if not o.has(self.topic) and o.has(self.partition):
            raise AdminCommandFailedException("Option partition is only allowed if topic is used")
        value = str(o.value_of(self.election_type)).upper()
        if value not in ELECTION_TYPES:
            raise AdminCommandFailedException(f"Cannot convert argument '{o.value_of(self.election_type)}' of option "
                                              "['election-type']. Value must be one of [PREFERRED, UNCLEAN]")
        return value


def parse_replica_election_data(text: str) -> list[tuple[str, int]]:
    """LeaderElectionCommand.parseReplicaElectionData."""
    try:
        js = json.loads(text) if text.strip() else None
    except ValueError as e:
        raise AdminOperationException(f"Replica election data is not valid JSON: {e}") from None
    if js is None:
        raise AdminOperationException("Replica election data is empty")
    if not isinstance(js, dict) or "partitions" not in js:
        raise AdminOperationException('Replica election data is missing "partitions" field')
    partitions = [(str(e["topic"]), int(e["partition"])) for e in js["partitions"]]
    duplicates = sorted({tp for tp in partitions if partitions.count(tp) > 1})
    if duplicates:
        raise AdminOperationException("Replica election data contains duplicate partitions: ["
                                      + ", ".join(f"{t}-{p}" for t, p in duplicates) + "]")
    return list(dict.fromkeys(partitions))


def execute(args: Sequence[str]) -> None:
    o = LeaderElectionCommandOptions(args)
    election = o.validate()
    opts = o.opts
    partitions: list[tuple[str, int]] | None = None
    if opts.has(o.path_to_json_file):
        path = str(opts.value_of(o.path_to_json_file))
        try:
            with open(path, encoding="utf-8") as f:
                partitions = parse_replica_election_data(f.read())
        except FileNotFoundError:
            raise AdminOperationException(f"java.nio.file.NoSuchFileException: {path}") from None
    elif opts.has(o.topic):
        partitions = [(str(opts.value_of(o.topic)), int(opts.value_of(o.partition)))]
    props = load_props(str(opts.value_of(o.admin_config))) if opts.has(o.admin_config) else {}
    from confluent_kafka import ElectionType, TopicPartition

    from brook.cli.clients import admin_client, from_kafka

    props.setdefault("default.api.timeout.ms", "30000")
    props.setdefault("request.timeout.ms", "15000")
    admin = admin_client(str(opts.value_of(o.bootstrap_server)), props)
    try:
        results = admin.elect_leaders(ElectionType[election], None if partitions is None else
                                      [TopicPartition(t, p) for t, p in partitions],
                                      ).result()
    except Exception as e:
        err = from_kafka(e, "electLeaders")
        if err.java_class.endswith("TimeoutException"):
            print("Timeout waiting for election results")
            raise AdminCommandFailedException("Timeout waiting for election results") from None
        if err.java_class.endswith("ClusterAuthorizationException"):
            print("Not authorized to perform leader election")
            raise AdminCommandFailedException("Not authorized to perform leader election") from None
        raise AdminCommandFailedException(err.java()) from None
    succeeded, noop, failed = [], [], []
    for tp, error in sorted(results.items(), key=lambda kv: (kv[0].topic, kv[0].partition)):
        name = f"{tp.topic}-{tp.partition}"
        if error is None:
            succeeded.append(name)
        elif from_kafka(error).java_class.endswith("ElectionNotNeededException"):
            noop.append(name)
        else:
            failed.append((name, from_kafka(error).java()))
    if succeeded:
        print(f"Successfully completed leader election ({election}) for partitions {', '.join(succeeded)}")
    if noop:
        print(f"Valid replica already elected for partitions {', '.join(noop)}")
    if failed:
        for name, text in failed:
            print(f"Error completing leader election ({election}) for partition: {name}: {text}")
        raise AdminCommandFailedException(f"{len(failed)} replica(s) could not be elected")


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        execute(sys.argv[1:] if argv is None else argv)
        return 0
    except Exception as e:  # LeaderElectionCommand.mainNoExit: the message (then, in Kafka, the stack trace)
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
