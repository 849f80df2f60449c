"""kafka-consumer-groups against a real broker (ConsumerGroupCommand.java and its Options, Kafka 3.9)."""

from __future__ import annotations

import re
import signal

from cli_helpers import LOG_PREFIX, produce, read_lines, start, tool, wait_until


def groups(broker, *args: str):  # noqa: ANN001, ANN201
    return tool("kafka-consumer-groups", "--bootstrap-server", broker.bootstrap, *args)


def offsets_table(rows: list[tuple]) -> str:
    """ConsumerGroupCommand.printOffsets for a group without members (every width at its minimum of 15)."""
    fmt = "{:<15} {:<15} {:<10} {:<15} {:<15} {:<15} {:<15} {:<15} {}"
    header = ("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
              "CLIENT-ID")
    return "\n" + "".join(fmt.format(*r) + "\n" for r in [header, *rows])


def reset_table(rows: list[tuple]) -> str:  # ConsumerGroupCommand.printOffsetsToReset
    fmt = "{:<30} {:<30} {:<10} {:<15}"
    return "\n" + "".join(fmt.format(*r) + "\n" for r in [("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"), *rows])


def test_describe_list_and_reset_an_inactive_group(broker) -> None:
    bs = broker.bootstrap
    produce(bs, "events", [str(i) for i in range(5)])
    r = tool("kafka-console-consumer", "--bootstrap-server", bs, "--topic", "events", "--group", "g1",
             "--from-beginning", "--max-messages", "3")
    assert r.stdout == "0\n1\n2\n"

    r = groups(broker, "--list")
    assert (r.returncode, r.stdout) == (0, "g1\n")
    r = groups(broker, "--list", "--state")  # printGroupInfo: max(15, group length) + 10, then %-20s
    assert r.stdout == f"{'GROUP':<25} {'STATE':<20}\n{'g1':<25} {'Empty':<20}\n"
    assert groups(broker, "--list", "--state", "stable").stdout == f"{'GROUP':<25} {'STATE':<20}\n"

    r = groups(broker, "--describe", "--group", "g1")
    assert r.returncode == 0
    assert r.stderr == "\nConsumer group 'g1' has no active members.\n"  # shouldPrintMemberState, EMPTY
    assert r.stdout == offsets_table([("g1", "events", 0, 3, 5, 2, "-", "-", "-")])

    r = groups(broker, "--reset-offsets", "--group", "g1", "--topic", "events", "--to-earliest")
    assert r.stderr.startswith("WARN: No action will be performed as the --execute option is missing.In a future")
    assert r.stdout == reset_table([("g1", "events", 0, 0)])
    assert "CURRENT-OFFSET" in groups(broker, "--describe", "--group", "g1").stdout  # dry run: nothing changed
    assert groups(broker, "--describe", "--group", "g1").stdout == offsets_table(
        [("g1", "events", 0, 3, 5, 2, "-", "-", "-")])

    r = groups(broker, "--reset-offsets", "--group", "g1", "--all-topics", "--shift-by", "-2", "--execute")
    assert (r.stdout, r.stderr) == (reset_table([("g1", "events", 0, 1)]), "")
    r = groups(broker, "--reset-offsets", "--group", "g1", "--topic", "events:0", "--to-offset", "9", "--execute")
    assert r.stdout == reset_table([("g1", "events", 0, 5)])  # checkOffsetsRange clamps to the log end
    assert re.fullmatch(LOG_PREFIX + r"WARN New offset \(9\) is higher than latest offset for topic partition "
                        r"events-0. Value will be set to 5 \(org.apache.kafka.tools.consumer.group."
                        r"ConsumerGroupCommand\)\n", r.stderr)
    r = groups(broker, "--reset-offsets", "--group", "g1", "--all-topics", "--to-datetime", "2000-01-01T00:00:00.000",
               "--dry-run", "--export")
    assert r.stdout == "events,0,0\n\n"  # CsvRecordNoGroup lines, then println
    for spec in (["--to-latest"], ["--to-current"], ["--by-duration", "PT1H"]):
        r = groups(broker, "--reset-offsets", "--group", "g1", "--all-topics", "--dry-run", *spec)
        assert r.stdout == reset_table([("g1", "events", 0, 5 if spec != ["--by-duration", "PT1H"] else 0)]), spec

    plan = broker.data_dir.parent / "plan.csv"
    plan.write_text("events,0,2\n")
    r = groups(broker, "--reset-offsets", "--group", "g1", "--from-file", str(plan), "--execute")
    assert r.stdout == reset_table([("g1", "events", 0, 2)])
    assert groups(broker, "--describe", "--group", "g1").stdout == offsets_table(
        [("g1", "events", 0, 2, 5, 3, "-", "-", "-")])

    r = groups(broker, "--delete-offsets", "--group", "g1", "--topic", "events")
    fmt = "{:<30} {:<15} {:<15}"
    assert r.stdout == ("Request succeed for deleting offsets with topic events group g1\n\n"
                        + fmt.format("TOPIC", "PARTITION", "STATUS") + "\n" + fmt.format("events", 0, "Successful")
                        + "\n")
    r = groups(broker, "--delete", "--group", "g1")
    assert r.stdout == "Deletion of requested consumer groups ('g1') was successful.\n"
    r = groups(broker, "--describe", "--group", "g1")
    assert (r.returncode, r.stdout) == (0, "\nError: Consumer group 'g1' does not exist.\n")  # DEAD


def test_describe_an_active_group(broker) -> None:
    bs = broker.bootstrap
    produce(bs, "live", ["a", "b"])
    consumer = start("kafka-console-consumer", "--bootstrap-server", bs, "--topic", "live", "--group", "active",
                     "--from-beginning")
    try:
        assert read_lines(consumer, 2) == ["a", "b"]
        wait_until(lambda: "Stable" in groups(broker, "--describe", "--group", "active", "--state").stdout)

        r = groups(broker, "--describe", "--group", "active")
        lines = r.stdout.split("\n")
        assert (r.stderr, lines[0], lines[-1]) == ("", "", "")
        assert re.fullmatch(r"GROUP +TOPIC +PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG +CONSUMER-ID +HOST +"
                            "CLIENT-ID", lines[1])
        assert re.fullmatch(r"active +live +0 +(2|-) +2 +(0|-) +console-consumer-[0-9a-f-]+ +/127\.0\.0\.1 +"
                            "console-consumer", lines[2]), lines[2]

        r = groups(broker, "--describe", "--group", "active", "--members", "--verbose")
        header, row = r.stdout.split("\n")[1:3]
        assert re.fullmatch(r"GROUP +CONSUMER-ID +HOST +CLIENT-ID +#PARTITIONS +ASSIGNMENT", header)
        assert re.fullmatch(r"active +console-consumer-\S+ /127\.0\.0\.1 +console-consumer 1 +live\(0\)", row), row

        r = groups(broker, "--describe", "--group", "active", "--state")
        fmt = "{:<25} {:<25} {:<20} {:<15} {}"  # printStates
        assert r.stdout == ("\n" + fmt.format("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")
                            + "\n" + fmt.format("active", f"{bs}  (0)", "range", "Stable", 1) + "\n")

        r = groups(broker, "--reset-offsets", "--group", "active", "--all-topics", "--to-earliest", "--execute")
        assert r.stdout == ("\nError: Assignments can only be reset if the group 'active' is inactive, but the "
                            "current state is Stable.\n" + reset_table([]))
        r = groups(broker, "--delete", "--group", "active")
        assert r.stdout == ("\nError: Deletion of some consumer groups failed:\n* Group 'active' could not be deleted "
                            "due to: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors."
                            "GroupNotEmptyException: The group is not empty.\n")
    finally:
        consumer.send_signal(signal.SIGTERM)
        _, err = consumer.communicate(timeout=20)
    assert (consumer.returncode, err.decode()) == (143, "Processed a total of 2 messages\n")


def test_option_errors(broker) -> None:
    bs = broker.bootstrap
    cases = {  # ConsumerGroupCommandOptions.checkArgs / ConsumerGroupCommand.main
        ("--list",): 'Missing required argument "[bootstrap-server]"',
        ("--bootstrap-server", bs): "Command must include exactly one action: --list, --describe, --delete, "
                                    "--reset-offsets, --delete-offsets",
        ("--bootstrap-server", bs, "--describe"): "Option [describe] takes one of these options: [list], [describe], "
                                                  "[delete], [reset-offsets]",
        ("--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--to-earliest", "--to-latest"):
            'Option "[to-earliest]" can\'t be used with option "[to-latest]"',
        ("--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--to-earliest"):
            "One of the reset scopes should be defined: --all-topics, --topic.",
        ("--bootstrap-server", bs, "--list", "--state", "sleepy"):
            "Invalid state list 'sleepy'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, "
            "Empty, Assigning, Reconciling",
    }
    for args, message in cases.items():
        r = tool("kafka-consumer-groups", *args)
        assert r.returncode == 1, args
        assert f"{message}\nOption " in r.stderr, (args, r.stderr[:300])  # then the usage
    r = tool("kafka-consumer-groups", "--bootstrap-server", bs, "--list", "--members")
    assert (r.returncode, r.stderr) == (1, 'Exception in thread "main" joptsimple.UnavailableOptionException: '
                                           "Option(s) [members] are unavailable given other options on the command "
                                           "line\n")
