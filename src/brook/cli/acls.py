"""kafka-acls: Kafka's AclCommand (core, Kafka 3.9) through confluent-kafka's AdminClient (create_acls,
describe_acls, delete_acls): --add / --remove / --list with the same resource filters, ACL entries, confirmations
and printed text. Only the --bootstrap-server mode exists (Brook has no ZooKeeper for the deprecated --authorizer).

librdkafka drops DescribeAcls' error code (an empty listing instead), so an empty --list asks the broker once
more through `kafka_rpc` (kio) to tell "no ACLs" from SECURITY_DISABLED or CLUSTER_AUTHORIZATION_FAILED."""

from __future__ import annotations

import builtins
import sys
from collections.abc import Sequence
from typing import Any

from brook.acl import ACL_OPERATIONS, CLUSTER_NAME, SUPPORTED_OPERATIONS
from brook.cli.acl_options import AclCommandOptions, pascal
from brook.cli.options import OptionError, entry_point, load_props, print_usage_and_exit

Pattern = tuple[str, str, str]  # resource type, name, pattern type (PatternType names)
Entry = tuple[str, str, str, str]  # principal, host, operation, permission type (enum names)

# AclEntry.supportedOperations (server, Kafka 3.9), in AclOperation's names
SUPPORTED = {rtype.name: tuple(op.name for op in ops) for rtype, ops in SUPPORTED_OPERATIONS.items()}
OPERATIONS = tuple(op.name for op in ACL_OPERATIONS)


class IllegalArgument(Exception):
    def java(self) -> str:
        return f"java.lang.IllegalArgumentException: {self}"


def operation(name: str) -> str:
    """SecurityUtils.operation: the PascalCase name or its upper case (IDEMPOTENTWRITE), else UNKNOWN."""
    for op in OPERATIONS:
        if name in (pascal(op), pascal(op).upper()):
            return op
    return "UNKNOWN"


def principal(text: str) -> str:
    """SecurityUtils.parseKafkaPrincipal, printed back as KafkaPrincipal.toString (type:name)."""
    if not text or ":" not in text:
        raise IllegalArgument(f"expected a string in format principalType:principalName but got {text}")
    return text


def pattern_text(p: Pattern) -> str:
    """ResourcePattern.toString (and ResourcePatternFilter's: the same words)."""
    return f"ResourcePattern(resourceType={p[0]}, name={p[1]}, patternType={p[2]})"


def entry_text(e: Entry) -> str:
    """AccessControlEntryData.toString."""
    return f"(principal={e[0]}, host={e[1]}, operation={e[2]}, permissionType={e[3]})"


def entries_block(entries: list[Entry]) -> str:
    """AclCommand's `$Newline ${acls.map("\t" + _).mkString(Newline)} $Newline`."""
    return "\n " + "\n".join("\t" + entry_text(e) for e in entries) + " \n"


def unique(items: list) -> list:
    return list(dict.fromkeys(items))


class AclCommand:
    def __init__(self, o: AclCommandOptions) -> None:
        self.o = o
        self.opts = o.opts

    # -- AclCommand's helpers --------------------------------------------------------------------------------
    def resource_filters(self, die: bool = True) -> list[Pattern]:
        o, opts, ptype = self.o, self.opts, self.o.pattern_type()
        out: list[Pattern] = [("TOPIC", t.strip(), ptype) for t in opts.values_of(o.topic)]
        if ptype == "LITERAL" and (opts.has(o.cluster) or opts.has(o.idempotent)):
            out.append(("CLUSTER", CLUSTER_NAME, "LITERAL"))
        out += [("GROUP", g.strip(), ptype) for g in opts.values_of(o.group)]
        out += [("TRANSACTIONAL_ID", t, ptype) for t in opts.values_of(o.transactional_id)]  # not trimmed in Kafka
        out += [("DELEGATION_TOKEN", t.strip(), ptype) for t in opts.values_of(o.delegation_token)]
        out += [("USER", u.strip(), ptype) for u in opts.values_of(o.user_principal)]
        if not out and die:
            print_usage_and_exit(o.parser, "You must provide at least one resource: --topic <topic> or --cluster or "
                                 "--group <group> or --delegation-token <Delegation Token ID>")
        return unique(out)

    def principals(self, spec: Any) -> list[str]:
        return unique([principal(p.strip()) for p in self.opts.values_of(spec)])

    def hosts(self, host_spec: Any, principal_spec: Any) -> list[str]:
        if self.opts.has(host_spec):
            return unique([h.strip() for h in self.opts.values_of(host_spec)])
        return ["*"] if self.opts.has(principal_spec) else []

    def acl(self, operations: list[str]) -> list[Entry]:
        o = self.o
        out: list[Entry] = []
        for who, hosts, perm in ((self.principals(o.allow_principal), self.hosts(o.allow_host, o.allow_principal),
                                  "ALLOW"),
                                 (self.principals(o.deny_principal), self.hosts(o.deny_host, o.deny_principal),
                                  "DENY")):
            out += [(p, h, op, perm) for p in who for op in operations for h in hosts]
        return unique(out)

    def filter_to_acls(self) -> dict[Pattern, list[Entry]]:
        o, opts = self.o, self.opts
        result: dict[Pattern, list[Entry]] = {}
        if not opts.has(o.producer) and not opts.has(o.consumer):
            acls = self.acl(unique([operation(op.strip()) for op in opts.values_of(o.operation)]))
            result.update((f, acls) for f in self.resource_filters())
        if opts.has(o.producer):
            filters = self.resource_filters()
            result.update((f, self.acl(["WRITE", "DESCRIBE", "CREATE"])) for f in filters if f[0] == "TOPIC")
            result.update((f, self.acl(["WRITE", "DESCRIBE"])) for f in filters if f[0] == "TRANSACTIONAL_ID")
            if opts.has(o.idempotent):
                result[("CLUSTER", CLUSTER_NAME, "LITERAL")] = self.acl(["IDEMPOTENT_WRITE"])
        if opts.has(o.consumer):
            filters = self.resource_filters()
            for f in filters:
                if f[0] in ("TOPIC", "GROUP"):
                    acls = self.acl(["READ", "DESCRIBE"] if f[0] == "TOPIC" else ["READ"])
                    result[f] = unique(acls + result.get(f, []))
        for f, acls in result.items():  # validateOperation
            valid = (*SUPPORTED[f[0]], "ALL")
            if any(e[2] not in valid for e in acls):
                print_usage_and_exit(o.parser, f"ResourceType {f[0]} only supports operations "
                                     + ", ".join(pascal(op) for op in valid))
        return result

    def confirm(self, message: str) -> bool:
        if self.opts.has(self.o.force):
            return True
        print(message, flush=True)
        return sys.stdin.readline().strip("\r\n").lower() == "y"  # StdIn.readLine().equalsIgnoreCase("y")

    # -- the actions -----------------------------------------------------------------------------------------
    def add(self, admin: Any, timeout: float) -> None:
        ptype = self.o.pattern_type()
        if ptype not in ("LITERAL", "PREFIXED"):
            print_usage_and_exit(self.o.parser, f"A '--resource-pattern-type' value of '{ptype}' is not valid when "
                                 "adding acls.")
        resource_to_acls = self.filter_to_acls()
        if any(not acls for acls in resource_to_acls.values()):
            print_usage_and_exit(self.o.parser, "You must specify one of: --allow-principal, --deny-principal when "
                                 "trying to add ACLs.")
        from brook.cli.acl_client import create

        for resource, acls in resource_to_acls.items():
            print(f"Adding ACLs for resource `{pattern_text(resource)}`: {entries_block(acls)}", flush=True)
            create(admin, resource, acls, timeout)

    def remove(self, admin: Any, timeout: float) -> None:
        from brook.cli.acl_client import delete

        for flt, acls in self.filter_to_acls().items():
            if not acls:
                question = f"Are you sure you want to delete all ACLs for resource filter `{pattern_text(flt)}`? (y/n)"
            else:
                question = (f"Are you sure you want to remove ACLs: {entries_block(acls)} from resource filter "
                            f"`{pattern_text(flt)}`? (y/n)")
            if self.confirm(question):
                delete(admin, flt, acls, timeout)

    def list(self, admin: Any, timeout: float, bootstrap: str) -> None:
        from brook.cli.acl_client import describe

        filters = self.resource_filters(die=False)
        wanted = self.principals(self.o.principal)
        resource_to_acls = describe(admin, filters, timeout, bootstrap)
        if not wanted:
            self.print_acls(resource_to_acls)
        for who in wanted:
            print(f"ACLs for principal `{who}`")
            self.print_acls({r: [e for e in acls if e[0] == who] for r, acls in resource_to_acls.items()})

    @staticmethod
    def print_acls(resource_to_acls: dict[Pattern, builtins.list[Entry]]) -> None:  # list: the method above
        for resource, acls in resource_to_acls.items():
            if acls:
                print(f"Current ACLs for resource `{pattern_text(resource)}`: {entries_block(acls)}")


def execute(args: Sequence[str]) -> int:
    o = AclCommandOptions(args)
    o.check_args()
    if not o.opts.has(o.bootstrap_server):  # the deprecated --authorizer mode needs ZooKeeper
        print("Error while executing ACL command: Brook's kafka-acls supports only --bootstrap-server")
        return 1
    from brook.cli.clients import admin_client, api_timeout_s, java_text

    command = AclCommand(o)
    try:
        config = o.opts.value_of(o.command_config) if o.opts.has(o.command_config) else None
        props = load_props(config) if config else {}
        bootstrap = o.opts.value_of(o.bootstrap_server)
        admin, timeout = admin_client(bootstrap, props), api_timeout_s(props)
        if o.opts.has(o.add):
            command.add(admin, timeout)
        elif o.opts.has(o.remove):
            command.remove(admin, timeout)
        else:
            command.list(admin, timeout, bootstrap)
        return 0
    except (IllegalArgument, OptionError) as e:  # main: the message, then the stack trace's first line
        print(f"Error while executing ACL command: {e}")
        print(e.java())
        return 1
    except Exception as e:  # noqa: BLE001 - a failed future: Kafka prints its ExecutionException
        text = java_text(e)
        print(f"Error while executing ACL command: {text}")
        print(f"java.util.concurrent.ExecutionException: {text}")
        return 1


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    try:
        return execute(sys.argv[1:] if argv is None else argv)
    except OptionError as e:  # thrown by the options' parser before AclCommand's try: the JVM's uncaught report
        print(f'Exception in thread "main" {e.java()}', file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
