"""kafka-consumer-groups' flags and their checks, as Kafka's ConsumerGroupCommandOptions
(tools/src/main/java/org/apache/kafka/tools/consumer/group/ConsumerGroupCommandOptions.java, Kafka 3.9)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from brook.cli.options import (
    OptionParser,
    check_invalid_args,
    check_required_args,
    maybe_print_help_or_version,
    print_usage_and_exit,
)


class GroupOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.bootstrap_server = p.accepts("bootstrap-server", "REQUIRED: The server(s) to connect to.",
                                          arg="required", described_as="server to connect to")
        self.group = p.accepts("group", "The consumer group we wish to act on.", arg="required",
                               described_as="consumer group")
        self.topic = p.accepts(
            "topic", "The topic whose consumer group information should be deleted or topic whose should be included "
            "in the reset offset process. In `reset-offsets` case, partitions can be specified using this format: "
            "`topic1:0,1,2`, where 0,1,2 are the partition to be included in the process. Reset-offsets also supports "
            "multiple topic inputs.", arg="required", described_as="topic")
        self.all_topics = p.accepts("all-topics", "Consider all topics assigned to a group in the `reset-offsets` "
                                    "process.")
        self.list = p.accepts("list", "List all consumer groups.")
        self.describe = p.accepts("describe", "Describe consumer group and list offset lag (number of messages not "
                                  "yet processed) related to given group.")
        self.all_groups = p.accepts("all-groups", "Apply to all consumer groups.")
        self.delete = p.accepts("delete", "Pass in groups to delete topic partition offsets and ownership information "
                                "over the entire consumer group. For instance --group g1 --group g2")
        self.timeout = p.accepts(
            "timeout", "The timeout that can be set for some use cases. For example, it can be used when describing "
            "the group to specify the maximum amount of time in milliseconds to wait before the group stabilizes "
            "(when the group is just created, or is going through some changes).", arg="required", type="Long",
            described_as="timeout (ms)", default=("5000",))
        self.command_config = p.accepts("command-config", "Property file containing configs to be passed to Admin "
                                        "Client and Consumer.", arg="required",
                                        described_as="command config property file")
        self.reset_offsets = p.accepts(
            "reset-offsets", "Reset offsets of consumer group. Supports one consumer group at the time, and instances "
            "should be inactive\nHas 2 execution options: --dry-run (the default) to plan which offsets to reset, and "
            "--execute to update the offsets. Additionally, the --export option is used to export the results to a "
            "CSV format.\nYou must choose one of the following reset specifications: --to-datetime, --by-duration, "
            "--to-earliest, --to-latest, --shift-by, --from-file, --to-current, --to-offset.\nTo define the scope use "
            "--all-topics or --topic. One scope must be specified unless you use '--from-file'.")
        self.delete_offsets = p.accepts("delete-offsets", "Delete offsets of consumer group. Supports one consumer "
                                        "group at the time, and multiple topics.")
        self.dry_run = p.accepts("dry-run", "Only show results without executing changes on Consumer Groups. "
                                 "Supported operations: reset-offsets.")
        self.execute = p.accepts("execute", "Execute operation. Supported operations: reset-offsets.")
        self.export = p.accepts("export", "Export operation execution to a CSV file. Supported operations: "
                                "reset-offsets.")
        self.to_offset = p.accepts("to-offset", "Reset offsets to a specific offset.", arg="required", type="Long",
                                   described_as="offset")
        self.from_file = p.accepts("from-file", "Reset offsets to values defined in CSV file.", arg="required",
                                   described_as="path to CSV file")
        self.to_datetime = p.accepts("to-datetime", "Reset offsets to offset from datetime. Format: "
                                     "'YYYY-MM-DDTHH:mm:SS.sss'", arg="required", described_as="datetime")
        self.by_duration = p.accepts("by-duration", "Reset offsets to offset by duration from current timestamp. "
                                     "Format: 'PnDTnHnMnS'", arg="required", described_as="duration")
        self.to_earliest = p.accepts("to-earliest", "Reset offsets to earliest offset.")
        self.to_latest = p.accepts("to-latest", "Reset offsets to latest offset.")
        self.to_current = p.accepts("to-current", "Reset offsets to current offset.")
        self.shift_by = p.accepts("shift-by", "Reset offsets shifting current offset by 'n', where 'n' can be "
                                  "positive or negative.", arg="required", type="Long",
                                  described_as="number-of-offsets")
        self.members = p.accepts("members", "Describe members of the group. This option may be used with "
                                 "'--describe' and '--bootstrap-server' options only.\nExample: --bootstrap-server "
                                 "localhost:9092 --describe --group group1 --members", available_if=("describe",))
        self.verbose = p.accepts("verbose", "Provide additional information, if any, when describing the group. This "
                                 "option may be used with '--offsets'/'--members'/'--state' and '--bootstrap-server' "
                                 "options only.\nExample: --bootstrap-server localhost:9092 --describe --group group1 "
                                 "--members --verbose", available_if=("describe",))
        self.offsets = p.accepts("offsets", "Describe the group and list all topic partitions in the group along with "
                                 "their offset lag. This is the default sub-action of and may be used with "
                                 "'--describe' and '--bootstrap-server' options only.\nExample: --bootstrap-server "
                                 "localhost:9092 --describe --group group1 --offsets", available_if=("describe",))
        self.state = p.accepts(
            "state", "When specified with '--describe', includes the state of the group.\nExample: --bootstrap-server "
            "localhost:9092 --describe --group group1 --state\nWhen specified with '--list', it displays the state of "
            "all groups. It can also be used to list groups with specific states.\nExample: --bootstrap-server "
            "localhost:9092 --list --state stable,empty\nThis option may be used with '--describe', '--list' and "
            "'--bootstrap-server' options only.", arg="optional", available_if=("describe", "list"))
        self.type = p.accepts(
            "type", "When specified with '--list', it displays the types of all the groups. It can also be used to "
            "list groups with specific types.\nExample: --bootstrap-server localhost:9092 --list --type "
            "classic,consumer\nThis option may be used with the '--list' option only.", arg="optional",
            available_if=("list",))
        self.opts = p.parse(args)  # an OptionException here escapes main, as in Kafka
        self.scenarios = [self.to_offset, self.shift_by, self.to_datetime, self.by_duration, self.to_earliest,
                          self.to_latest, self.to_current, self.from_file]
        self.check_args()

    def check_args(self) -> None:
        p, o = self.parser, self.opts
        maybe_print_help_or_version(p, o, "This tool helps to list all consumer groups, describe a consumer group, "
                                    "delete consumer group info, or reset consumer group offsets.")
        check_required_args(p, o, self.bootstrap_server)
        levels = f"{self.list}, {self.describe}, {self.delete}, {self.reset_offsets}"
        scopes = f"{self.group}, {self.all_groups}"
        if o.has(self.describe):
            if not o.has(self.group) and not o.has(self.all_groups):
                print_usage_and_exit(p, f"Option {self.describe} takes one of these options: {levels}")
            if sum(o.has(s) for s in (self.members, self.offsets, self.state)) > 1:
                print_usage_and_exit(p, f"Option {self.describe} takes at most one of these options: {self.members}, "
                                     f"{self.offsets}, {self.state}")
            if o.has(self.state) and o.value_of(self.state) is not None:
                print_usage_and_exit(p, f"Option {self.describe} does not take a value for {self.state}")
        if o.has(self.delete):
            if not o.has(self.group) and not o.has(self.all_groups):
                print_usage_and_exit(p, f"Option {self.delete} takes one of these options: {scopes}")
            if o.has(self.topic):
                print_usage_and_exit(p, "The consumer does not support topic-specific offset deletion from a consumer "
                                     "group.")
        if o.has(self.delete_offsets) and (not o.has(self.group) or not o.has(self.topic)):
            print_usage_and_exit(p, f"Option {self.delete_offsets} takes the following options: {scopes}")
        if o.has(self.reset_offsets):
            if o.has(self.dry_run) and o.has(self.execute):
                print_usage_and_exit(p, f"Option {self.reset_offsets} only accepts one of {self.execute} and "
                                     f"{self.dry_run}")
            if not o.has(self.dry_run) and not o.has(self.execute):
                print("WARN: No action will be performed as the --execute option is missing.In a future major "
                      "release, the default behavior of this command will be to prompt the user before executing the "
                      "reset rather than doing a dry run. You should add the --dry-run option explicitly if you are "
                      "scripting this command and want to keep the current default behavior without prompting.",
                      file=sys.stderr)
            if not o.has(self.group) and not o.has(self.all_groups):
                print_usage_and_exit(p, f"Option {self.reset_offsets} takes one of these options: {scopes}")
            for scenario in self.scenarios:
                check_invalid_args(p, o, scenario, [s for s in self.scenarios if s is not scenario])
        check_invalid_args(p, o, self.group, [self.all_groups])
        check_invalid_args(p, o, self.group, [self.list])
        check_invalid_args(p, o, self.topic, [self.list, self.describe])
