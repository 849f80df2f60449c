"""kafka-log-dirs: Kafka's LogDirsCommand (tools, Kafka 3.9) options and checks. The query itself needs the Admin
call DescribeLogDirs, which neither confluent-kafka nor librdkafka's C API offers, so after validating its command
line the tool says so and exits 1 (see docs/cli.md)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from brook.cli.options import OptionParser, check_required_args, entry_point, maybe_print_help_or_version

UNSUPPORTED = ("Error: kafka-log-dirs needs the DescribeLogDirs admin call, which confluent-kafka and librdkafka do "
               "not provide; Brook does not support this tool")


class LogDirsCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: the server(s) to use for bootstrapping",
                                          arg="required", described_as="The server(s) to use for bootstrapping")
        self.command_config = p.accepts("command-config", "Property file containing configs to be passed to Admin "
                                        "Client.", arg="required", described_as="Admin client property file")
        self.describe = p.accepts("describe", "Describe the specified log directories on the specified brokers.")
        self.topic_list = p.accepts("topic-list", "The list of topics to be queried in the form "
                                    "\"topic1,topic2,topic3\". All topics will be queried if no topic list is "
                                    "specified", arg="required", described_as="Topic list", default=("",))
        self.broker_list = p.accepts("broker-list", "The list of brokers to be queried in the form \"0,1,2\". All "
                                     "brokers in the cluster will be queried if no broker list is specified",
                                     arg="required", described_as="Broker list", default=("",))
        self.opts = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool helps to query log directory usage on the specified "
                                    "brokers.")
        check_required_args(p, self.opts, self.bootstrap_server, self.describe)


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        LogDirsCommandOptions(sys.argv[1:] if argv is None else argv)
    except Exception as e:  # LogDirsCommand.mainNoExit: the message on stderr, exit 1
        print(e, file=sys.stderr)
        return 1
    print(UNSUPPORTED, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
