"""kafka-acls against real brokers: exact stdout / stderr and exit codes of Kafka 3.9's
core/src/main/scala/kafka/admin/AclCommand.scala (strings named next to each expectation)."""

from __future__ import annotations

import pytest
from cli_helpers import tool

AUTH = {"authorizer.class.name": "kafka.security.authorizer.AclAuthorizer", "super.users": "User:ANONYMOUS"}
TOPIC_T = "ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)"  # ResourcePattern.toString


def entry(principal: str, op: str, perm: str = "ALLOW", host: str = "*") -> str:
    return f"(principal={principal}, host={host}, operation={op}, permissionType={perm})"  # AccessControlEntryData


def block(*entries: str) -> str:
    # AclCommand: s"...: $Newline ${acls.map("\t" + _).mkString(Newline)} $Newline" then println's newline
    return "\n " + "\n".join("\t" + e for e in entries) + " \n\n"


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    from conftest import module_broker

    with module_broker(tmp_path_factory, "acls", AUTH) as b:
        yield b


def acls(broker, *args: str, stdin: str | None = None):  # noqa: ANN001, ANN201
    return tool("kafka-acls", "--bootstrap-server", broker.bootstrap, *args, stdin=stdin)


def test_add_list_remove(secured) -> None:
    r = acls(secured, "--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "t")
    # AdminClientService.addAcls: "Adding ACLs for resource `$resource`: ..."
    assert (r.returncode, r.stdout, r.stderr) == (0, f"Adding ACLs for resource `{TOPIC_T}`: "
                                                  + block(entry("User:alice", "READ")), "")
    r = acls(secured, "--add", "--deny-principal", "User:bob", "--deny-host", "10.0.0.1", "--operation", "WRITE",
             "--topic", "t")
    assert r.returncode == 0, r.stdout
    # printResourceAcls: "Current ACLs for resource `$resource`: ..."
    r = acls(secured, "--list", "--topic", "t")
    assert (r.returncode, r.stdout) == (0, f"Current ACLs for resource `{TOPIC_T}`: " + block(
        entry("User:alice", "READ"), entry("User:bob", "WRITE", "DENY", "10.0.0.1")))
    # listAcls with --principal: "ACLs for principal `$principal`" then that principal's entries only
    r = acls(secured, "--list", "--topic", "t", "--principal", "User:bob")
    assert r.stdout == "ACLs for principal `User:bob`\n" + f"Current ACLs for resource `{TOPIC_T}`: " + block(
        entry("User:bob", "WRITE", "DENY", "10.0.0.1"))
    # removeAcls asks first (confirmAction); anything but y keeps the ACLs
    question = f"Are you sure you want to delete all ACLs for resource filter `{TOPIC_T}`? (y/n)\n"
    r = acls(secured, "--remove", "--topic", "t", stdin="n\n")
    assert (r.returncode, r.stdout) == (0, question)
    assert acls(secured, "--list", "--topic", "t").stdout.count("principal=") == 2
    r = acls(secured, "--remove", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "t",
             stdin="Y\n")
    assert r.stdout == ("Are you sure you want to remove ACLs: " + block(entry("User:alice", "READ"))[:-1]
                        + f" from resource filter `{TOPIC_T}`? (y/n)\n")
    r = acls(secured, "--remove", "--topic", "t", "--force")
    assert (r.returncode, r.stdout) == (0, "")
    assert acls(secured, "--list", "--topic", "t").stdout == ""


def test_producer_consumer_and_prefixed(secured) -> None:
    r = acls(secured, "--add", "--allow-principal", "User:p", "--producer", "--topic", "orders-",
             "--resource-pattern-type", "prefixed", "--transactional-id", "tx")
    pre = "ResourcePattern(resourceType=TOPIC, name=orders-, patternType=PREFIXED)"
    tx = "ResourcePattern(resourceType=TRANSACTIONAL_ID, name=tx, patternType=PREFIXED)"
    # getProducerResourceFilterToAcls: WRITE, DESCRIBE, CREATE on topics; WRITE, DESCRIBE on transactional ids
    assert r.stdout == (f"Adding ACLs for resource `{pre}`: " + block(*(entry("User:p", op) for op in
                                                                       ("WRITE", "DESCRIBE", "CREATE")))
                        + f"Adding ACLs for resource `{tx}`: " + block(*(entry("User:p", op) for op in
                                                                         ("WRITE", "DESCRIBE"))))
    r = acls(secured, "--add", "--allow-principal", "User:c", "--consumer", "--topic", "in", "--group", "g")
    assert r.returncode == 0
    # MATCH lists every pattern that applies to a name
    r = acls(secured, "--list", "--topic", "orders-1", "--resource-pattern-type", "match")
    assert r.stdout == f"Current ACLs for resource `{pre}`: " + block(*(entry("User:p", op) for op in
                                                                       ("WRITE", "DESCRIBE", "CREATE")))
    r = acls(secured, "--list", "--group", "g")
    assert r.stdout == ("Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=g, patternType=LITERAL)`"
                        ": " + block(entry("User:c", "READ")))
    r = acls(secured, "--add", "--allow-principal", "User:i", "--producer", "--topic", "x", "--idempotent")
    assert ("Adding ACLs for resource `ResourcePattern(resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL)`"
            ": " + block(entry("User:i", "IDEMPOTENT_WRITE"))) in r.stdout


def test_usage_errors() -> None:
    # checkArgs: CommandLineUtils.printUsageAndExit -> the message and the help on stderr, exit 1
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--topic", "t")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("Command must include exactly one action: --list, --add, --remove. \nOption")
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--add", "--topic", "t")
    assert r.stderr.startswith("You must specify one of: --allow-principal, --deny-principal when trying to add "
                               "ACLs.\n")
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--add", "--allow-principal", "User:a")
    assert r.stderr.startswith("You must provide at least one resource: --topic <topic> or --cluster or --group "
                               "<group> or --delegation-token <Delegation Token ID>\n")
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--add", "--allow-principal", "User:a", "--topic",
             "t", "--resource-pattern-type", "match")
    assert r.stderr.startswith("A '--resource-pattern-type' value of 'MATCH' is not valid when adding acls.\n")
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--add", "--allow-principal", "User:a", "--group",
             "g", "--operation", "Write")
    assert r.stderr.startswith("ResourceType GROUP only supports operations Read, Describe, Delete, All\n")
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--add", "--principal", "User:a", "--topic", "t")
    assert r.stderr.startswith("The --principal option is only available if --list is set\n")
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--add", "--producer", "--allow-principal", "User:a")
    assert r.stderr.startswith("With --producer you must specify a --topic\n")
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--list", "--producer", "--topic", "t")
    assert r.stderr.startswith('Option "[list]" can\'t be used with option "[producer]"\n')
    # AclCommand.main's catch: "Error while executing ACL command: ${e.getMessage}" then the stack trace (stdout)
    r = tool("kafka-acls", "--bootstrap-server", "localhost:1", "--add", "--allow-principal", "alice", "--topic", "t")
    assert (r.returncode, r.stdout) == (1, "Error while executing ACL command: expected a string in format "
                                        "principalType:principalName but got alice\njava.lang.IllegalArgumentException"
                                        ": expected a string in format principalType:principalName but got alice\n")
    r = tool("kafka-acls", "--help")
    assert r.returncode == 1 and r.stderr.startswith("This tool helps to manage acls on kafka.\nOption")


def test_without_authorizer(broker) -> None:
    # AclApis: SecurityDisabledException("No Authorizer is configured.") for CreateAcls; DescribeAcls answers
    # "No Authorizer is configured on the broker"; the tool prints the ExecutionException
    r = acls(broker, "--add", "--allow-principal", "User:a", "--topic", "t")
    exc = "org.apache.kafka.common.errors.SecurityDisabledException: No Authorizer is configured."
    assert (r.returncode, r.stdout) == (1, f"Adding ACLs for resource `{TOPIC_T}`: " + block(entry("User:a", "ALL"))
                                        + f"Error while executing ACL command: {exc}\n"
                                        f"java.util.concurrent.ExecutionException: {exc}\n")
    r = acls(broker, "--list")
    exc = "org.apache.kafka.common.errors.SecurityDisabledException: No Authorizer is configured on the broker"
    assert (r.returncode, r.stdout) == (1, f"Error while executing ACL command: {exc}\n"
                                        f"java.util.concurrent.ExecutionException: {exc}\n")


def test_bin_script(secured) -> None:
    r = tool("bin/kafka-acls.sh", "--bootstrap-server", secured.bootstrap, "--list", "--topic", "none")
    assert (r.returncode, r.stdout) == (0, "")
