"""kafka-broker-api-versions: each broker's supported API versions, as Kafka's BrokerApiVersionsCommand (core,
Kafka 3.9). No protocol is spoken here: librdkafka sends the ApiVersions request on connecting and, with
debug=feature, logs the broker's answer ("ApiKey Produce (0) Versions 0..11"), which this tool reads. The Java
client's own version ranges (for "usable") are Kafka 3.9's ApiKeys, below."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Sequence

from brook.cli.options import OptionParser, check_required_args, entry_point, load_props, maybe_print_help_or_version

# Kafka 3.9's clients/src/main/resources/common/message/*Request.json: id -> (ApiKeys.name, oldest, latest stable
# version, in ApiKeys.clientApis())
API_KEYS: dict[int, tuple[str, int, int, bool]] = {
    0: ("Produce", 0, 11, True), 1: ("Fetch", 0, 17, True), 2: ("ListOffsets", 0, 9, True),
    3: ("Metadata", 0, 12, True), 4: ("LeaderAndIsr", 0, 7, True), 5: ("StopReplica", 0, 4, True),
    6: ("UpdateMetadata", 0, 8, True), 7: ("ControlledShutdown", 0, 3, True), 8: ("OffsetCommit", 0, 9, True),
    9: ("OffsetFetch", 0, 9, True), 10: ("FindCoordinator", 0, 6, True), 11: ("JoinGroup", 0, 9, True),
    12: ("Heartbeat", 0, 4, True), 13: ("LeaveGroup", 0, 5, True), 14: ("SyncGroup", 0, 5, True),
    15: ("DescribeGroups", 0, 5, True), 16: ("ListGroups", 0, 5, True), 17: ("SaslHandshake", 0, 1, True),
    18: ("ApiVersions", 0, 4, True), 19: ("CreateTopics", 0, 7, True), 20: ("DeleteTopics", 0, 6, True),
    21: ("DeleteRecords", 0, 2, True), 22: ("InitProducerId", 0, 5, True), 23: ("OffsetForLeaderEpoch", 0, 4, True),
    24: ("AddPartitionsToTxn", 0, 5, True), 25: ("AddOffsetsToTxn", 0, 4, True), 26: ("EndTxn", 0, 4, True),
    27: ("WriteTxnMarkers", 0, 1, True), 28: ("TxnOffsetCommit", 0, 4, True), 29: ("DescribeAcls", 0, 3, True),
    30: ("CreateAcls", 0, 3, True), 31: ("DeleteAcls", 0, 3, True), 32: ("DescribeConfigs", 0, 4, True),
    33: ("AlterConfigs", 0, 2, True), 34: ("AlterReplicaLogDirs", 0, 2, True), 35: ("DescribeLogDirs", 0, 4, True),
    36: ("SaslAuthenticate", 0, 2, True), 37: ("CreatePartitions", 0, 3, True),
    38: ("CreateDelegationToken", 0, 3, True), 39: ("RenewDelegationToken", 0, 2, True),
    40: ("ExpireDelegationToken", 0, 2, True), 41: ("DescribeDelegationToken", 0, 3, True),
    42: ("DeleteGroups", 0, 2, True), 43: ("ElectLeaders", 0, 2, True), 44: ("IncrementalAlterConfigs", 0, 1, True),
    45: ("AlterPartitionReassignments", 0, 0, True), 46: ("ListPartitionReassignments", 0, 0, True),
    47: ("OffsetDelete", 0, 0, True), 48: ("DescribeClientQuotas", 0, 1, True), 49: ("AlterClientQuotas", 0, 1, True),
    50: ("DescribeUserScramCredentials", 0, 0, True), 51: ("AlterUserScramCredentials", 0, 0, True),
    52: ("Vote", 0, 1, False), 53: ("BeginQuorumEpoch", 0, 1, False), 54: ("EndQuorumEpoch", 0, 1, False),
    55: ("DescribeQuorum", 0, 2, True), 56: ("AlterPartition", 0, 3, True), 57: ("UpdateFeatures", 0, 1, True),
    58: ("Envelope", 0, 0, True), 59: ("FetchSnapshot", 0, 1, False), 60: ("DescribeCluster", 0, 1, True),
    61: ("DescribeProducers", 0, 0, True), 62: ("BrokerRegistration", 0, 4, False),
    63: ("BrokerHeartbeat", 0, 1, False), 64: ("UnregisterBroker", 0, 0, True),
    65: ("DescribeTransactions", 0, 0, True), 66: ("ListTransactions", 0, 1, True),
    67: ("AllocateProducerIds", 0, 0, True), 68: ("ConsumerGroupHeartbeat", 0, 0, True),
    69: ("ConsumerGroupDescribe", 0, 0, True), 70: ("ControllerRegistration", 0, 0, False),
    71: ("GetTelemetrySubscriptions", 0, 0, True), 72: ("PushTelemetry", 0, 0, True),
    73: ("AssignReplicasToDirs", 0, 0, False), 74: ("ListClientMetricsResources", 0, 0, True),
    75: ("DescribeTopicPartitions", 0, 0, True), 76: ("ShareGroupHeartbeat", 0, -1, True),
    77: ("ShareGroupDescribe", 0, -1, True), 78: ("ShareFetch", 0, -1, True), 79: ("ShareAcknowledge", 0, -1, True),
    80: ("AddRaftVoter", 0, 0, True), 81: ("RemoveRaftVoter", 0, 0, True), 82: ("UpdateRaftVoter", 0, 0, False),
    83: ("InitializeShareGroupState", 0, -1, True), 84: ("ReadShareGroupState", 0, -1, True),
    85: ("WriteShareGroupState", 0, -1, True), 86: ("DeleteShareGroupState", 0, -1, True),
    87: ("ReadShareGroupStateSummary", 0, -1, True),
}
_API_LINE = re.compile(r"(?P<broker>\S+?)/(?P<node>\w+):\s+ApiKey \S+ \((?P<key>\d+)\) "
                       r"Versions (?P<lo>\d+)\.\.(?P<hi>\d+)")
_SUPPORT_END = re.compile(r"(?P<broker>\S+?)/(?P<node>\w+):\s+Feature ")


class BrokerVersionCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.command_config = p.accepts("command-config", "A property file containing configs to be passed to Admin "
                                        "Client.", arg="required", described_as="command config property file")
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: The server to connect to.", arg="required",
                                          described_as="server(s) to use for bootstrapping")
        self.opts = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool helps to retrieve broker version information.")
        check_required_args(p, self.opts, self.bootstrap_server)


def api_version_text(key: int, lo: int, hi: int) -> str:
    """NodeApiVersions.apiVersionToText."""
    if key not in API_KEYS:
        return f"UNKNOWN({key}): " + (str(lo) if lo == hi else f"{lo} to {hi}")
    name, oldest, latest, _ = API_KEYS[key]
    text = f"{name}({key}): " + (str(lo) if lo == hi else f"{lo} to {hi}")
    if latest < lo:
        return text + " [unusable: node too new]"
    if hi < oldest:
        return text + " [unusable: node too old]"
    return text + f" [usable: {min(latest, hi)}]"


def node_versions_text(versions: dict[int, tuple[int, int]]) -> str:
    """NodeApiVersions.toString(true)."""
    texts = {key: api_version_text(key, lo, hi) for key, (lo, hi) in versions.items()}
    for key, (name, _, _, client) in API_KEYS.items():
        if client and key not in texts:
            texts[key] = f"{name}({key}): UNSUPPORTED"
    return "(\n\t" + ",\n\t".join(texts[k] for k in sorted(texts)) + "\n)"


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[str, dict[int, tuple[int, int]]] = {}
        self.complete: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        m = _API_LINE.search(text)
        if m:
            node = m["node"] if m["node"] != "bootstrap" else m["broker"]
            if node in self.complete:  # a reconnection: a fresh answer
                self.complete.discard(node)
                self.versions.pop(node, None)
            self.versions.setdefault(node, {})[int(m["key"])] = (int(m["lo"]), int(m["hi"]))
            return
        m = _SUPPORT_END.search(text)
        node = m and (m["node"] if m["node"] != "bootstrap" else m["broker"])
        if node and node in self.versions:
            self.complete.add(node)


def execute(args: Sequence[str]) -> int:
    o = BrokerVersionCommandOptions(args)
    props = load_props(o.opts.value_of(o.command_config)) if o.opts.has(o.command_config) else {}
    from brook.cli.clients import admin_client, api_timeout_s, from_kafka

    collector = _Collector()
    logger = logging.getLogger("brook.cli.broker_api_versions")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(collector)
    native = {"debug": "feature", "enable.sparse.connections": "false", "logger": logger, "log_level": 7}
    admin = admin_client(o.opts.value_of(o.bootstrap_server), props, native)
    timeout = api_timeout_s(props)
    try:
        cluster = admin.describe_cluster(request_timeout=timeout).result()
    except Exception as e:
        raise from_kafka(e, "describeCluster") from None
    nodes = sorted(cluster.nodes, key=lambda n: n.id)
    deadline = time.monotonic() + timeout

    def answered(n) -> str | None:  # noqa: ANN001 - the broker's answer, on its own connection or the bootstrap one
        return next((k for k in (str(n.id), f"{n.host}:{n.port}") if k in collector.complete), None)

    while time.monotonic() < deadline and not all(answered(n) for n in nodes):
        admin.poll(0.05)
    for n in nodes:
        broker = f"{n.host}:{n.port} (id: {n.id} rack: {n.rack if n.rack else 'null'})"
        key = answered(n)
        versions = collector.versions.get(key) if key else None
        if versions is None:
            print(f"{broker} -> ERROR: org.apache.kafka.common.errors.TimeoutException: Timed out waiting for the "
                  "ApiVersions response")
        else:
            print(f"{broker} -> {node_versions_text(versions)}")
    return 0


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        return execute(sys.argv[1:] if argv is None else argv)
    except Exception as e:  # an uncaught exception: the JVM prints it and exits 1
        from brook.cli.clients import java_text

        print(f"Exception in thread \"main\" {java_text(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
