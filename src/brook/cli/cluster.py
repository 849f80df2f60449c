"""kafka-cluster: Kafka 3.9's ClusterTool (tools): `cluster-id` and `unregister`, with its argparse4j command line
(defaultHelp), output and exit codes.

`cluster-id` asks confluent-kafka's describe_cluster. librdkafka has no UnregisterBroker nor bootstrap.controllers,
so `unregister` and `--bootstrap-controller` go through `kafka_rpc` (kio): a cluster that does not advertise
UnregisterBroker (a ZooKeeper-mode cluster such as Brook) gets Kafka's "does not support" line and status 0.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from brook.cli.argparse4j import Parser
from brook.cli.options import entry_point, load_props_nio, main_no_exit

UNREGISTER_BROKER = 64
CONTROLLER_ENDPOINT = 2  # DescribeCluster's EndpointType.CONTROLLER


def build_parser() -> Parser:
    p = Parser("kafka-cluster", "The Kafka cluster tool.", default_help=True)
    cluster_id = p.add_command("cluster-id", "Get information about the ID of a cluster.")
    unregister = p.add_command("unregister", "Unregister a broker.")
    for s in (cluster_id, unregister):
        g = s.add_group("", "", mutex=True, required=True)
        s.add("--bootstrap-server", "-b", group=g, help="A list of host/port pairs to use for establishing the "
              "connection to the Kafka cluster.")
        s.add("--bootstrap-controller", "-C", group=g, help="A list of host/port pairs to use for establishing the "
              "connection to the KRaft controllers.")
        s.add("--config", "-c", help="A property file containing configurations for the Admin client.")
    unregister.add("--id", "-i", type="Integer", required=True, help="The ID of the broker to unregister.")
    return p


def bootstrap_props(props: dict[str, str], server: str | None, controller: str | None) -> dict[str, str]:
    """CommandLineUtils.initializeBootstrapProperties."""
    if server is not None:
        props = {k: v for k, v in props.items() if k != "bootstrap.controllers"}
        props["bootstrap.servers"] = server
    elif controller is not None:
        props = {k: v for k, v in props.items() if k != "bootstrap.servers"}
        props["bootstrap.controllers"] = controller
    return props


def execution_exception(cause: Any) -> Any:
    """A future's failure as `get()` throws it: ExecutionException, whose message is the cause's toString()."""
    from brook.cli.clients import ToolError

    return ToolError("java.util.concurrent.ExecutionException", cause.java())


def _rpc(servers: str, props: dict[str, str], call: str, api: str, version: int, build: Any,
         api_key: int | None = None) -> Any:
    """One Admin call through kafka_rpc to the first of `servers`; None when the node lacks `api_key`
    (UnsupportedVersionException). Failures, the answer's error included, come out as the call's future throws."""
    import time

    from brook.cli.clients import ToolError, api_timeout_s, error_for_code
    from brook.cli.kafka_rpc import call_highest, connect_to
    from brook.cli.rpc_security import check_security

    check_security(props)
    try:
        with connect_to(servers.split(",")[0], time.monotonic() + api_timeout_s(props), call, props) as conn:
            if api_key is not None and api_key not in conn.versions:
                return None
            response = call_highest(conn, api, [version], build, call)
    except ToolError as e:
        raise execution_exception(e) from None
    if response.error_code:
        raise execution_exception(error_for_code(int(response.error_code), response.error_message or ""))
    return response


def cluster_id_command(props: dict[str, str]) -> None:
    if "bootstrap.controllers" in props:  # librdkafka cannot talk to controllers: ask as the Java Admin would
        cluster_id = _rpc(props["bootstrap.controllers"], props, "describeCluster", "describe_cluster", 1,
                          lambda m: m.DescribeClusterRequest(include_cluster_authorized_operations=False,
                                                             endpoint_type=CONTROLLER_ENDPOINT)).cluster_id
    else:
        from brook.cli.clients import admin_client, api_timeout_s, from_kafka

        admin = admin_client(props["bootstrap.servers"], props)
        try:
            cluster_id = admin.describe_cluster(request_timeout=api_timeout_s(props)).result().cluster_id
        except Exception as e:
            raise execution_exception(from_kafka(e, "describeCluster")) from None
    if cluster_id is not None:
        print(f"Cluster ID: {cluster_id}")
    else:
        print("No cluster ID found. The Kafka version is probably too old.")


def unregister_command(props: dict[str, str], broker_id: int) -> None:
    servers = props.get("bootstrap.servers") or props["bootstrap.controllers"]
    if _rpc(servers, props, "unregisterBroker", "unregister_broker", 0,
            lambda m: m.UnregisterBrokerRequest(broker_id=broker_id), UNREGISTER_BROKER) is None:
        print("The target cluster does not support the broker unregistration API.")
        return
    print(f"Broker {broker_id} is no longer registered.")


def execute(args: Sequence[str]) -> None:
    ns = build_parser().parse_or_exit(args, lambda: None)
    props = load_props_nio(ns["config"]) if ns["config"] is not None else {}
    props = bootstrap_props(props, ns["bootstrap_server"], ns["bootstrap_controller"])
    if ns["command"] == "cluster-id":
        cluster_id_command(props)
    else:
        unregister_command(props, ns["id"])


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    return main_no_exit(execute, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
