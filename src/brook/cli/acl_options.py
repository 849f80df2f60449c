"""kafka-acls' options and their checks: AclCommand.AclCommandOptions and checkArgs (core, Kafka 3.9)."""

from __future__ import annotations

from collections.abc import Sequence

from brook.acl import ACL_OPERATIONS, PatternType
from brook.cli.options import (
    OptionError,
    OptionParser,
    check_invalid_args,
    check_required_args,
    maybe_print_help_or_version,
    print_usage_and_exit,
)

DEPRECATION = ("Warning: support for ACL configuration directly through the authorizer is deprecated and will be "
               "removed in a future release. Please use --bootstrap-server instead to set ACLs through the admin "
               "client.")
PATTERN_TYPES = tuple(p.name for p in PatternType if p != PatternType.UNKNOWN)


def pascal(name: str) -> str:
    """SecurityUtils.toPascalCase: IDEMPOTENT_WRITE -> IdempotentWrite."""
    return "".join(part.capitalize() for part in name.split("_"))


# AclEntry.ACL_OPERATIONS in SecurityUtils.operationName form
OPERATION_NAMES = tuple(pascal(op.name) for op in ACL_OPERATIONS)


class AclCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.bootstrap_server = p.accepts(
            "bootstrap-server", "A list of host/port pairs to use for establishing the connection to the Kafka "
            "cluster. This list should be in the form host1:port1,host2:port2,... This config is required for acl "
            "management using admin client API.", arg="required", described_as="server to connect to")
        self.command_config = p.accepts("command-config", "A property file containing configs to be passed to Admin "
                                        "Client.", arg="optional", described_as="command-config")
        self.authorizer = p.accepts(
            "authorizer", "DEPRECATED: Fully qualified class name of the authorizer, which defaults to "
            "kafka.security.authorizer.AclAuthorizer if --bootstrap-server is not provided. " + DEPRECATION,
            arg="required", described_as="authorizer")
        self.authorizer_properties = p.accepts(
            "authorizer-properties", "DEPRECATED: The properties required to configure an instance of the "
            "Authorizer specified by --authorizer. These are key=val pairs. For the default authorizer, example "
            "values are: zookeeper.connect=localhost:2181. " + DEPRECATION, arg="required",
            described_as="authorizer-properties")
        self.topic = p.accepts("topic", "topic to which ACLs should be added or removed. A value of '*' indicates ACL "
                               "should apply to all topics.", arg="required", described_as="topic")
        self.cluster = p.accepts("cluster", "Add/Remove cluster ACLs.")
        self.group = p.accepts("group", "Consumer Group to which the ACLs should be added or removed. A value of '*' "
                               "indicates the ACLs should apply to all groups.", arg="required", described_as="group")
        self.transactional_id = p.accepts(
            "transactional-id", "The transactionalId to which ACLs should be added or removed. A value of '*' "
            "indicates the ACLs should apply to all transactionalIds.", arg="required",
            described_as="transactional-id")
        self.idempotent = p.accepts(
            "idempotent", "Enable idempotence for the producer. This should be used in combination with the "
            "--producer option. Note that idempotence is enabled automatically if the producer is authorized to a "
            "particular transactional-id.")
        self.delegation_token = p.accepts(
            "delegation-token", "Delegation token to which ACLs should be added or removed. A value of '*' indicates "
            "ACL should apply to all tokens.", arg="required", described_as="delegation-token")
        self.resource_pattern_type = p.accepts(
            "resource-pattern-type", "The type of the resource pattern or pattern filter. When adding acls, this "
            "should be a specific pattern type, e.g. 'literal' or 'prefixed'. When listing or removing acls, a "
            "specific pattern type can be used to list or remove acls from specific resource patterns, or use the "
            "filter values of 'any' or 'match', where 'any' will match any pattern type, but will match the resource "
            "name exactly, where as 'match' will perform pattern matching to list or remove all acls that affect the "
            "supplied resource(s). WARNING: 'match', when used in combination with the '--remove' switch, should be "
            "used with care.", arg="required", type="ANY|MATCH|LITERAL|PREFIXED", default=("LITERAL",))
        self.add = p.accepts("add", "Indicates you are trying to add ACLs.")
        self.remove = p.accepts("remove", "Indicates you are trying to remove ACLs.")
        self.list = p.accepts("list", "List ACLs for the specified resource, use --topic <topic> or --group <group> or "
                              "--cluster to specify a resource.")
        self.operation = p.accepts(
            "operation", "Operation that is being allowed or denied. Valid operation names are: \n"
            + "".join(f"\t{name}\n" for name in OPERATION_NAMES), arg="required", default=("All",))
        self.allow_principal = p.accepts(
            "allow-principal", "principal is in principalType:name format. Note that principalType must be supported "
            "by the Authorizer being used. For example, User:'*' is the wild card indicating all users.",
            arg="required", described_as="allow-principal")
        self.deny_principal = p.accepts(
            "deny-principal", "principal is in principalType:name format. By default anyone not added through "
            "--allow-principal is denied access. You only need to use this option as negation to already allowed set. "
            "Note that principalType must be supported by the Authorizer being used. For example if you wanted to "
            "allow access to all users in the system but not test-user you can define an ACL that allows access to "
            "User:'*' and specify --deny-principal=User:test@EXAMPLE.COM. AND PLEASE REMEMBER DENY RULES TAKES "
            "PRECEDENCE OVER ALLOW RULES.", arg="required", described_as="deny-principal")
        self.principal = p.accepts(
            "principal", "List ACLs for the specified principal. principal is in principalType:name format. Note that "
            "principalType must be supported by the Authorizer being used. Multiple --principal option can be passed.",
            arg="optional", described_as="principal")
        self.allow_host = p.accepts(
            "allow-host", "Host from which principals listed in --allow-principal will have access. If you have "
            "specified --allow-principal then the default for this option will be set to '*' which allows access from "
            "all hosts.", arg="required", described_as="allow-host")
        self.deny_host = p.accepts(
            "deny-host", "Host from which principals listed in --deny-principal will be denied access. If you have "
            "specified --deny-principal then the default for this option will be set to '*' which denies access from "
            "all hosts.", arg="required", described_as="deny-host")
        self.producer = p.accepts("producer", "Convenience option to add/remove ACLs for producer role. This will "
                                  "generate ACLs that allows WRITE,DESCRIBE and CREATE on topic.")
        self.consumer = p.accepts("consumer", "Convenience option to add/remove ACLs for consumer role. This will "
                                  "generate ACLs that allows READ,DESCRIBE on topic and READ on group.")
        self.force = p.accepts("force", "Assume Yes to all queries and do not prompt.")
        self.zk_tls_config_file = p.accepts(
            "zk-tls-config-file", "DEPRECATED: Identifies the file where ZooKeeper client TLS connectivity properties "
            "are defined for the default authorizer kafka.security.authorizer.AclAuthorizer. " + DEPRECATION,
            arg="required", described_as="Authorizer ZooKeeper TLS configuration")
        self.user_principal = p.accepts(
            "user-principal", "Specifies a user principal as a resource in relation with the operation. For instance "
            "one could grant CreateTokens or DescribeTokens permission on a given user principal.", arg="required",
            described_as="user-principal")
        self.opts = p.parse(args)
        maybe_print_help_or_version(p, self.opts, "This tool helps to manage acls on kafka.")

    def pattern_type(self) -> str:
        """PatternTypeConverter: jopt's EnumConverter (case-insensitive), UNKNOWN refused."""
        raw = self.opts.value_of(self.resource_pattern_type)
        if raw.upper() not in PATTERN_TYPES:
            raise OptionError("OptionArgumentConversionException",
                              f"Cannot parse argument '{raw}' of option resource-pattern-type")
        return raw.upper()

    def check_args(self) -> None:
        o, p = self.opts, self.parser
        if o.has(self.bootstrap_server) and o.has(self.authorizer):
            print_usage_and_exit(p, "Only one of --bootstrap-server or --authorizer must be specified")
        if not o.has(self.bootstrap_server):
            check_required_args(p, o, self.authorizer_properties)
            import sys

            print(DEPRECATION, file=sys.stderr)
        if o.has(self.command_config) and not o.has(self.bootstrap_server):
            print_usage_and_exit(p, "The --command-config option can only be used with --bootstrap-server option")
        if o.has(self.authorizer_properties) and o.has(self.bootstrap_server):
            print_usage_and_exit(p, "The --authorizer-properties option can only be used with --authorizer option")
        if sum(o.has(a) for a in (self.add, self.remove, self.list)) != 1:
            print_usage_and_exit(p, "Command must include exactly one action: --list, --add, --remove. ")
        check_invalid_args(p, o, self.list, (self.producer, self.consumer, self.allow_host, self.allow_principal,
                                             self.deny_host, self.deny_principal))
        for role in (self.producer, self.consumer):
            check_invalid_args(p, o, role, (self.operation, self.deny_principal, self.deny_host))
        if o.has(self.principal) and not o.has(self.list):
            print_usage_and_exit(p, "The --principal option is only available if --list is set")
        if o.has(self.producer) and not o.has(self.topic):
            print_usage_and_exit(p, "With --producer you must specify a --topic")
        if o.has(self.idempotent) and not o.has(self.producer):
            print_usage_and_exit(p, "The --idempotent option is only available if --producer is set")
        if o.has(self.consumer) and (not o.has(self.topic) or not o.has(self.group) or (
                not o.has(self.producer) and (o.has(self.cluster) or o.has(self.transactional_id)))):
            print_usage_and_exit(p, "With --consumer you must specify a --topic and a --group and no --cluster or "
                                 "--transactional-id option should be specified.")
