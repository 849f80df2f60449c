"""kafka-transactions: Kafka 3.9's TransactionsCommand (tools): list, describe, describe-producers, abort and
find-hanging, with its argparse4j command line, ToolsUtils.prettyPrintTable output, messages and exit codes.
The Admin calls behind it are in `transactions_admin`."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from brook.cli.argparse4j import Parser
from brook.cli.options import entry_point, load_props, print_version_and_exit
from brook.cli.transactions_admin import CommandExit, pretty_print_table, print_error_and_exit

# org.apache.kafka.clients.admin.TransactionState: any other name a broker sends parses as Unknown
STATES = {"Ongoing", "PrepareAbort", "PrepareCommit", "CompleteAbort", "CompleteCommit", "Empty",
          "PrepareEpochFence"}


def state_name(name: str) -> str:
    return name if name in STATES else "Unknown"


def build_parser() -> Parser:
    p = Parser("kafka-transactions.sh", "This tool is used to analyze the transactional state of producers in the "
               "cluster. It can be used to detect and recover from hanging transactions.")
    p.add("-v", "--version", action="version", help="show the version of this Kafka distribution and exit")
    p.add("--command-config", metavar="FILE", help="property file containing configs to be passed to admin client")
    p.add("--bootstrap-server", metavar="host:port", required=True, help="hostname and port for the broker to "
          "connect to, in the form `host:port`  (multiple comma-separated entries can be given)")
    p.commands_title, p.commands_metavar = "commands", "COMMAND"

    s = p.add_command("list", "list transactions")
    s.add("--duration-filter", type="Long", help="Duration (in millis) to filter by: if < 0, all transactions will be "
          "returned; otherwise, only transactions running longer than this duration will be returned")

    s = p.add_command("describe", "describe the state of an active transactional-id",
                      "Describe the state of an active transactional-id.")
    s.add("--transactional-id", required=True, help="transactional id")

    s = p.add_command("describe-producers", "describe the states of active producers for a topic partition")
    s.add("--broker-id", type="Integer", help="optional broker id to describe the producer state on a specific replica")
    s.add("--topic", required=True, help="topic name")
    s.add("--partition", type="Integer", required=True, help="partition number")

    s = p.add_command("abort", "abort a hanging transaction (requires administrative privileges)")
    s.add("--topic", required=True, help="topic name")
    s.add("--partition", type="Integer", required=True, help="partition number")
    g = s.add_group("Brokers on versions 3.0 and above", "For newer brokers, only the start offset of the "
                    "transaction to be aborted is required")
    s.add("--start-offset", type="Long", group=g, help="start offset of the transaction to abort")
    g = s.add_group("Brokers on versions older than 3.0", "For older brokers, you must provide all of these arguments")
    s.add("--producer-id", type="Long", group=g, help="producer id")
    s.add("--producer-epoch", type="Short", group=g, help="producer epoch")
    s.add("--coordinator-epoch", type="Integer", group=g, help="coordinator epoch")

    s = p.add_command("find-hanging", "find hanging transactions")
    s.add("--broker-id", type="Integer", help="broker id to search for hanging transactions")
    s.add("--max-transaction-timeout", type="Integer", default=15, help="maximum transaction timeout in minutes to "
          "limit the scope of the search (15 minutes by default)")
    s.add("--topic", help="topic name to limit search to (required if --partition is specified)")
    s.add("--partition", type="Integer", help="partition number")
    return p


# -- the commands ------------------------------------------------------------------------------------------------
def list_transactions(admin: Any, ns: dict[str, Any]) -> None:
    from brook.cli.java_collections import int_order

    try:
        result = admin.list_transactions(duration=ns["duration_filter"])
    except Exception as e:
        print_error_and_exit("Failed to list transactions", e)
    rows = [[t.transactional_id, str(broker), str(t.producer_id), state_name(t.transaction_state)]
            for broker in int_order(result) for t in result[broker]]
    pretty_print_table(["TransactionalId", "Coordinator", "ProducerId", "TransactionState"], rows)


def describe(admin: Any, ns: dict[str, Any]) -> None:
    from brook.cli.java_collections import hash_order, topic_partition_hash
    from brook.cli.transactions_admin import to_ms

    txn_id = ns["transactional_id"]
    try:
        coordinator, d = admin.describe_transaction(txn_id)
    except Exception as e:
        print_error_and_exit(f"Failed to describe transaction state of transactional-id `{txn_id}`", e)
    start = to_ms(d.transaction_start_time)
    start_col, duration_col = (str(start), str(int(time.time() * 1000) - start)) if start >= 0 else ("None", "None")
    tps = [(t.topic, int(p)) for t in d.topics for p in t.partitions]  # a HashSet<TopicPartition>
    row = [str(coordinator), txn_id, str(d.producer_id), str(d.producer_epoch), state_name(d.transaction_state),
           str(to_ms(d.transaction_timeout)), start_col, duration_col,
           ",".join(f"{t}-{p}" for t, p in hash_order(tps, lambda tp: topic_partition_hash(*tp)))]
    pretty_print_table(["CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
                        "TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs",
                        "TopicPartitions"], [row])


def describe_producers(admin: Any, ns: dict[str, Any]) -> None:
    from brook.cli.transactions_admin import TopicPartition

    tp = TopicPartition(ns["topic"], ns["partition"])
    broker = ns["broker_id"]
    try:
        producers = admin.describe_producers([tp], broker)[tp]
    except Exception as e:
        where = f"broker {broker}" if broker is not None else "leader"
        print_error_and_exit(f"Failed to describe producers for partition {tp} on {where}", e)
    rows = [[str(s.producer_id), str(s.producer_epoch), str(s.coordinator_epoch if s.coordinator_epoch >= 0 else -1),
             str(s.last_sequence), str(s.last_timestamp),
             str(s.current_txn_start_offset) if s.current_txn_start_offset >= 0 else "None"] for s in producers]
    pretty_print_table(["ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp",
                        "CurrentTransactionStartOffset"], rows)


def abort(admin: Any, ns: dict[str, Any]) -> None:
    from brook.cli.transactions_admin import AbortSpec, TopicPartition

    tp = TopicPartition(ns["topic"], ns["partition"])
    start, producer_id = ns["start_offset"], ns["producer_id"]
    if start is None and producer_id is None:
        print_error_and_exit("The transaction to abort must be identified either with --start-offset (for brokers on "
                             "3.0 or above) or with --producer-id, --producer-epoch, and --coordinator-epoch (for "
                             "older brokers)")
    if start is None:
        if ns["producer_epoch"] is None:
            print_error_and_exit("Missing required argument --producer-epoch")
        if ns["coordinator_epoch"] is None:
            print_error_and_exit("Missing required argument --coordinator-epoch")
        # a producer whose first transaction hangs has coordinator epoch -1: 0 is at most any leader epoch
        spec = AbortSpec(tp, producer_id, ns["producer_epoch"], max(0, ns["coordinator_epoch"]))
    else:
        try:
            producers = admin.describe_producers([tp])[tp]
        except Exception as e:
            print_error_and_exit(f"Failed to validate producer state for partition {tp}", e)
        found = next((s for s in producers if s.current_txn_start_offset >= 0 and s.current_txn_start_offset == start),
                     None)
        if found is None:
            print_error_and_exit(f"Could not find any open transactions starting at offset {start} on partition {tp}")
        spec = AbortSpec(tp, int(found.producer_id), int(found.producer_epoch),
                         int(found.coordinator_epoch) if found.coordinator_epoch >= 0 else 0)
    try:
        admin.abort_transaction(spec)
    except Exception as e:
        print_error_and_exit(f"Failed to abort transaction {spec}", e)


def execute(args: Sequence[str]) -> int:
    parser = build_parser()
    ns = parser.parse_or_exit(args, print_version_and_exit)
    props: dict[str, str] = {}
    if ns["command_config"] is not None:
        try:
            props = load_props(ns["command_config"])
        except OSError as e:
            print_error_and_exit("Failed to load admin client properties", e)
    from brook.cli.clients import admin_client, api_timeout_s
    from brook.cli.rpc_security import check_security
    from brook.cli.transactions_admin import TxnAdmin
    from brook.cli.transactions_hanging import find_hanging

    commands = {"list": list_transactions, "describe": describe, "describe-producers": describe_producers,
                "abort": abort, "find-hanging": find_hanging}
    check_security(props)
    admin = TxnAdmin(admin_client(ns["bootstrap_server"], props), api_timeout_s(props), props)
    try:
        commands[ns["command"]](admin, ns)
    finally:
        admin.close()
    return 0


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        return execute(sys.argv[1:] if argv is None else argv)
    except CommandExit as e:
        print(e, file=sys.stderr)
        return 1
    except SystemExit:
        raise
    except Exception as e:  # Admin.create's failures are uncaught in Kafka: the JVM prints them
        from brook.cli.clients import java_text

        print(f"Exception in thread \"main\" {java_text(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
