"""kafka-configs: describe and alter topic, broker and broker-logger configs, as Kafka's ConfigCommand
(core/src/main/scala/kafka/admin/ConfigCommand.scala, Kafka 3.9). Users, clients and ips (client quotas, SCRAM
credentials) are in `configs_users`; what confluent-kafka cannot send (the cluster-wide broker default, client
quotas) goes through `configs_rpc`."""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from brook.cli.options import (
    OptionError,
    OptionParser,
    check_invalid_args,
    entry_point,
    load_props,
    maybe_print_help_or_version,
    print_usage_and_exit,
)

BROKER_LOGGERS = "broker-loggers"
SUPPORTED_TYPES = ("topics", "clients", "users", "brokers", "ips", "client-metrics", BROKER_LOGGERS)
SOURCES = {0: "UNKNOWN", 1: "DYNAMIC_TOPIC_CONFIG", 2: "DYNAMIC_BROKER_CONFIG", 3: "DYNAMIC_DEFAULT_BROKER_CONFIG",
           4: "STATIC_BROKER_CONFIG", 5: "DEFAULT_CONFIG", 6: "DYNAMIC_BROKER_LOGGER_CONFIG",
           7: "DYNAMIC_CLIENT_METRICS_CONFIG", 8: "DYNAMIC_GROUP_CONFIG"}  # ConfigEntry.ConfigSource
_GROUPED = r"(?=[^\]]*(?:\[|$))"  # outside square brackets


class IllegalArgument(Exception):
    """IllegalArgumentException / InvalidConfigurationException: ConfigCommand prints the message alone."""


class ConfigCommandOptions:
    def __init__(self, args: Sequence[str]) -> None:
        p = self.parser = OptionParser()
        self.zookeeper = p.accepts("zookeeper", "DEPRECATED. The connection string for the zookeeper connection in "
                                   "the form host:port. Multiple URLS can be given to allow fail-over. Required when "
                                   "configuring SCRAM credentials for users or dynamic broker configs when the "
                                   "relevant broker(s) are down. Not allowed otherwise.", arg="required",
                                   described_as="urls")
        self.bootstrap_server = p.accepts("bootstrap-server", "The Kafka servers to connect to.", arg="required",
                                          described_as="server to connect to")
        self.bootstrap_controller = p.accepts("bootstrap-controller", "The Kafka controllers to connect to.",
                                              arg="required", described_as="controller to connect to")
        self.command_config = p.accepts("command-config", "Property file containing configs to be passed to Admin "
                                        "Client. This is used only with --bootstrap-server option for describing and "
                                        "altering broker configs.", arg="required",
                                        described_as="command config property file")
        self.alter = p.accepts("alter", "Alter the configuration for the entity.")
        self.describe = p.accepts("describe", "List configs for the given entity.")
        self.all = p.accepts("all", "List all configs for the given topic, broker, or broker-logger entity (includes "
                             "static configuration when the entity type is brokers)")
        self.entity_type = p.accepts("entity-type", "Type of entity (topics/clients/users/brokers/broker-loggers/ips/"
                                     "client-metrics)", arg="required")
        self.entity_name = p.accepts("entity-name", "Name of entity (topic name/client id/user principal name/broker "
                                     "id/ip/client metrics)", arg="required")
        self.entity_default = p.accepts("entity-default", "Default entity name for clients/users/brokers/ips (applies "
                                        "to corresponding entity type in command line)")
        self.add_config = p.accepts("add-config", "Key Value pairs of configs to add. Square brackets can be used to "
                                    "group values which contain commas: 'k1=v1,k2=[v1,v2,v2],k3=v3'. See the Kafka "
                                    "documentation for the valid configurations of each entity type. Entity types "
                                    "'users' and 'clients' may be specified together to update config for clients of "
                                    "a specific user.", arg="required")
        self.add_config_file = p.accepts("add-config-file", "Path to a properties file with configs to add. See "
                                         "add-config for a list of valid configurations.", arg="required")
        self.delete_config = p.accepts("delete-config", "config keys to remove 'k1,k2'", arg="required",
                                       separator=",")
        p.accepts("force", "Suppress console prompts")
        self.topic = p.accepts("topic", "The topic's name.", arg="required")
        self.client = p.accepts("client", "The client's ID.", arg="required")
        self.client_defaults = p.accepts("client-defaults", "The config defaults for all clients.")
        self.user = p.accepts("user", "The user's principal name.", arg="required")
        self.user_defaults = p.accepts("user-defaults", "The config defaults for all users.")
        self.broker = p.accepts("broker", "The broker's ID.", arg="required")
        self.broker_defaults = p.accepts("broker-defaults", "The config defaults for all brokers.")
        self.broker_logger = p.accepts("broker-logger", "The broker's ID for its logger config.", arg="required")
        self.ip_defaults = p.accepts("ip-defaults", "The config defaults for all IPs.")
        self.ip = p.accepts("ip", "The IP address.", arg="required")
        self.zk_tls = p.accepts("zk-tls-config-file", "Identifies the file where ZooKeeper client TLS connectivity "
                                "properties are defined.", arg="required", described_as="ZooKeeper TLS configuration")
        self.opts = p.parse(args)
        self.entity_flags = [(self.topic, "topics"), (self.client, "clients"), (self.user, "users"),
                             (self.broker, "brokers"), (self.broker_logger, BROKER_LOGGERS), (self.ip, "ips")]
        self.default_flags = [(self.client_defaults, "clients"), (self.user_defaults, "users"),
                              (self.broker_defaults, "brokers"), (self.ip_defaults, "ips")]

    def entity_types(self) -> list[str]:
        o = self.opts
        return o.values_of(self.entity_type) + [t for spec, t in self.entity_flags + self.default_flags if o.has(spec)]

    def entity_names(self) -> list[str]:
        o = self.opts
        names = iter(o.values_of(self.entity_name))
        paired = [next(names) if s is self.entity_name else "" for s in o.order
                  if s in (self.entity_name, self.entity_default)]
        return (paired + [o.value_of(spec) for spec, _ in self.entity_flags if o.has(spec)]
                + ["" for spec, _ in self.default_flags if o.has(spec)])

    def check_args(self) -> None:
        p, o = self.parser, self.opts
        if o.has(self.alter) + o.has(self.describe) != 1:
            print_usage_and_exit(p, "Command must include exactly one action: --describe, --alter")
        check_invalid_args(p, o, self.alter, [self.describe])
        check_invalid_args(p, o, self.describe, [self.alter, self.add_config, self.delete_config])
        types = self.entity_types()
        duplicates = [t for i, t in enumerate(types) if t in types[:i]]
        if duplicates:
            raise IllegalArgument(f"Duplicate entity type(s) specified: {','.join(duplicates)}")
        bootstrap = o.has(self.bootstrap_server) or o.has(self.bootstrap_controller)
        allowed, connect = ((SUPPORTED_TYPES, "--bootstrap-server or --bootstrap-controller") if bootstrap
                            else (("users", "brokers"), "--zookeeper"))
        for t in types:
            if t not in allowed:
                raise IllegalArgument(f"Invalid entity type {t}, the entity type must be one of "
                                      f"{', '.join(allowed)} with a {connect} argument")
        if not types:
            raise IllegalArgument("At least one entity type must be specified")
        if len(types) > 1 and set(types) != {"users", "clients"}:
            raise IllegalArgument("Only 'users' and 'clients' entity types may be specified together")
        if ((o.has(self.entity_name) or o.has(self.entity_type) or o.has(self.entity_default))
                and any(o.has(spec) for spec, _ in self.entity_flags + self.default_flags)):
            raise IllegalArgument("--entity-{type,name,default} should not be used in conjunction with specific "
                                  "entity flags")
        names = self.entity_names()
        has_name, has_default = any(names), "" in names
        connects = o.has(self.bootstrap_server) + o.has(self.bootstrap_controller) + o.has(self.zookeeper)
        if connects == 0:
            raise IllegalArgument("One of the required --bootstrap-server, --boostrap-controller, or --zookeeper "
                                  "arguments must be specified")
        if connects > 1:
            raise IllegalArgument("Only one of --bootstrap-server, --boostrap-controller, and --zookeeper can be "
                                  "specified")
        if o.has(self.all) and o.has(self.zookeeper):
            raise IllegalArgument("--bootstrap-server must be specified for --all")
        if o.has(self.zk_tls) and not o.has(self.zookeeper):
            raise IllegalArgument("Only the --zookeeper option can be used with the --zk-tls-config-file option.")
        if has_name and ("brokers" in types or BROKER_LOGGERS in types):
            for spec in (self.entity_name, self.broker, self.broker_logger):
                if o.has(spec) and not re.fullmatch(r"[+-]?[0-9]+", o.value_of(spec)):
                    raise IllegalArgument(f"The entity name for {types[0]} must be a valid integer broker id, but it "
                                          f"is: {o.value_of(spec)}")
        if o.has(self.describe) and BROKER_LOGGERS in types and not has_name:
            raise IllegalArgument(f"an entity name must be specified with --describe of {','.join(types)}")
        if o.has(self.alter):
            if {"users", "clients", "brokers", "ips"} & set(types):
                if not has_name and not has_default:
                    raise IllegalArgument("an entity-name or default entity must be specified with --alter of users, "
                                          "clients, brokers or ips")
            elif not has_name:
                raise IllegalArgument(f"an entity name must be specified with --alter of {','.join(types)}")
            adding, adding_file = o.has(self.add_config), o.has(self.add_config_file)
            if adding and adding_file:
                raise IllegalArgument("Only one of --add-config or --add-config-file must be specified")
            if not adding and not adding_file and not o.has(self.delete_config):
                raise IllegalArgument("At least one of --add-config, --add-config-file, or --delete-config must be "
                                      "specified with --alter")


def parse_configs_to_add(o: ConfigCommandOptions) -> dict[str, str]:
    props = load_props(o.opts.value_of(o.add_config_file)) if o.opts.has(o.add_config_file) else {}
    if o.opts.has(o.add_config):
        items = re.split("," + _GROUPED, o.opts.value_of(o.add_config))
        pairs = [re.split(r"\s*=\s*" + _GROUPED, item) for item in items]
        if not all(len(pair) == 2 for pair in pairs):
            raise IllegalArgument('requirement failed: Invalid entity config: all configs to be added must be in the '
                                  'format "key=val".')
        props.update({k.strip(): re.sub(r"[\[\]]", "", v).strip() for k, v in pairs})
    if "message.format.version" in props:
        print(f"WARNING: The configuration message.format.version={props['message.format.version']} is specified. "
              "This configuration will be ignored if the version is newer than the inter.broker.protocol.version "
              "specified in the broker or if the inter.broker.protocol.version is 3.0 or newer. This configuration is "
              "deprecated and it will be removed in Apache Kafka 4.0.")
    for key in props:
        if not re.fullmatch(r"[a-zA-Z0-9._-]*", key):
            raise IllegalArgument(f"Invalid character found for config key: {key}")
    return props


class ConfigService:
    def __init__(self, o: ConfigCommandOptions) -> None:
        from brook.cli.clients import admin_client
        from brook.cli.configs_rpc import RpcAdmin

        props = load_props(o.opts.value_of(o.command_config)) if o.opts.has(o.command_config) else {}
        bootstrap = o.opts.value_of(o.bootstrap_server if o.opts.has(o.bootstrap_server) else o.bootstrap_controller)
        self.o, self.admin = o, admin_client(bootstrap, props)
        self.rpc = RpcAdmin(self.admin, props)

    def _get(self, future: Any, call: str, timeout_s: float) -> Any:
        from concurrent.futures import TimeoutError as FutureTimeout

        from confluent_kafka import KafkaException

        from brook.cli.clients import ToolError, from_kafka

        try:
            return future.result(timeout=timeout_s)
        except KafkaException as e:
            raise ToolError("java.util.concurrent.ExecutionException", from_kafka(e, call).java()) from None
        except FutureTimeout:
            raise ToolError("java.util.concurrent.TimeoutException", "") from None

    def resource_config(self, entity_type: str, name: str, describe_all: bool) -> list[Any]:
        """ConfigCommand.getResourceConfig: the entries, only the dynamic ones unless --all, sorted by name."""

        from brook.cli.clients import ToolError

        if entity_type == "topics":
            if name:
                reason = ("the empty string is not allowed" if not name else "'.' is not allowed" if name == "."
                          else "'..' is not allowed" if name == ".." else
                          f"the length of '{name}' is longer than the max allowed length 249" if len(name) > 249
                          else None if re.fullmatch(r"[a-zA-Z0-9._-]+", name) else
                          f"'{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'")
                if reason:
                    raise ToolError("org.apache.kafka.common.errors.InvalidTopicException",
                                    f"Topic name is invalid: {reason}")
            kind, dynamic = "topic", "DYNAMIC_TOPIC_CONFIG"
        elif entity_type == "brokers":
            if name and not re.fullmatch(r"[+-]?[0-9]+", name):
                raise IllegalArgument(f"The entity name for {entity_type} must be a valid integer broker id, found: "
                                      f"{name}")
            kind, dynamic = "broker", "DYNAMIC_BROKER_CONFIG" if name else "DYNAMIC_DEFAULT_BROKER_CONFIG"
        elif entity_type == BROKER_LOGGERS:
            kind, dynamic = "broker_logger", None
        else:
            raise IllegalArgument(f"Invalid entity type: {entity_type}")
        if entity_type != "topics" and (not name or int(name) in self.rpc.nodes("describeConfigs", 30)):
            from brook.cli.configs_rpc import BROKER, BROKER_LOGGER

            # librdkafka refuses "" and BROKER_LOGGER, and merges the synonyms of one name
            entries = self.rpc.describe_configs(BROKER if entity_type == "brokers" else BROKER_LOGGER, name)
        else:  # topics, and a broker id the cluster lacks (the Admin's timeout, as in Kafka)
            futures = self.admin.describe_configs([config_resource(kind, name)], request_timeout=30)
            entries = self._get(next(iter(futures.values())), "describeConfigs", 30).values()
        return sorted((e for e in entries if describe_all or dynamic is None or source(e) == dynamic),
                      key=lambda e: e.name)

    def describe(self) -> None:
        o = self.o
        types, names = o.entity_types(), o.entity_names()
        entity_type, describe_all = types[0], o.opts.has(o.all)
        if entity_type in ("users", "clients", "ips"):
            from brook.cli import configs_users

            return configs_users.describe(self.admin, self.rpc, types, names)
        if entity_type == "client-metrics":
            raise unsupported(entity_type)
        if names:
            entities = names[:1]
        elif entity_type == "topics":
            from brook.cli.clients import from_kafka

            try:
                entities = sorted(self.admin.list_topics(timeout=30).topics)
            except Exception as e:
                raise from_kafka(e, "listTopics") from None
        else:
            cluster = self._get(self.admin.describe_cluster(request_timeout=30), "describeCluster", 30)
            entities = [str(n.id) for n in cluster.nodes] + [""]
        for entity in entities:
            if entity == "":
                print(f"Default configs for {entity_type} in the cluster are:")
            else:
                print(f"{'All' if describe_all else 'Dynamic'} configs for {entity_type[:-1]} {entity} are:")
            for entry in self.resource_config(entity_type, entity, describe_all):
                synonyms = ", ".join(f"{source(s)}:{s.name}={value(s)}"
                                     for s in (entry.synonyms or {}).values())
                print(f"  {entry.name}={value(entry)} sensitive={str(entry.is_sensitive).lower()} "
                      f"synonyms={{{synonyms}}}")

    def alter_broker(self, name: str, old: dict[str, Any], to_add: dict[str, str], to_delete: list[str]) -> None:
        """ConfigCommand 3.9 alters brokers with AlterConfigs: the dynamic configs it found, plus the added ones,
        less the deleted ones, replace the broker's (or the cluster-wide default's) whole dynamic set."""
        new = {**{k: e.value for k, e in old.items()}, **to_add}
        new = {k: v for k, v in new.items() if k not in to_delete}
        sensitive = [k for k, v in new.items() if v is None]
        if sensitive:
            raise IllegalArgument("All sensitive broker config entries must be specified for --alter, missing "
                                  f"entries: Set({', '.join(sensitive)})")
        if not name:
            return self.rpc.alter_broker_defaults(new)
        from confluent_kafka.admin import ConfigResource

        resource = ConfigResource("broker", name, set_config=new)
        with warnings.catch_warnings():  # the Java Admin's alterConfigs is deprecated too; ConfigCommand uses it
            warnings.simplefilter("ignore", DeprecationWarning)
            futures = self.admin.alter_configs([resource], request_timeout=30)
        self._get(next(iter(futures.values())), "alterConfigs", 60)

    def alter(self) -> None:
        from confluent_kafka.admin import AlterConfigOpType, ConfigEntry

        o = self.o
        types, names = o.entity_types(), o.entity_names()
        entity_type, name = types[0], names[0]
        to_add = parse_configs_to_add(o)
        to_delete = [k.strip() for k in o.opts.values_of(o.delete_config)]
        if entity_type in ("users", "clients", "ips"):
            from brook.cli import configs_users

            configs_users.alter(self.admin, self.rpc, types, names, to_add, to_delete)
        elif entity_type == BROKER_LOGGERS:
            loggers = {e.name for e in self.resource_config(entity_type, name, False)}
            invalid = [k for k in to_delete if k not in loggers] + [k for k in to_add if k not in loggers]
            if invalid:  # InvalidConfigurationException
                raise IllegalArgument(f"Invalid broker logger(s): {','.join(invalid)}")
            self.rpc.alter_broker_loggers(name, to_add, to_delete)
        elif entity_type in ("topics", "brokers"):
            old = {e.name: e for e in self.resource_config(entity_type, name, False)}
            invalid = [k for k in to_delete if k not in old]
            if invalid:  # InvalidConfigurationException
                raise IllegalArgument(f"Invalid config(s): {','.join(invalid)}")
            if entity_type == "brokers":
                self.alter_broker(name, old, to_add, to_delete)
            else:
                ops = ([ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in to_add.items()]
                       + [ConfigEntry(k, "", incremental_operation=AlterConfigOpType.DELETE) for k in to_delete])
                futures = self.admin.incremental_alter_configs([config_resource("topic", name, ops)],
                                                               request_timeout=30)
                self._get(next(iter(futures.values())), "incrementalAlterConfigs", 60)
        else:
            raise unsupported(entity_type)
        if name:
            print(f"Completed updating config for {entity_type[:-1]} {name}.")
        else:
            print(f"Completed updating default config for {entity_type} in the cluster.")


def config_resource(kind: str, name: str, ops: list | None = None) -> Any:
    from confluent_kafka.admin import ConfigResource

    return ConfigResource(kind, name, incremental_configs=ops)


def source(entry: Any) -> str:
    return SOURCES.get(getattr(entry.source, "value", entry.source), "UNKNOWN")


def value(entry: Any) -> str:
    return "null" if entry.value is None else entry.value


def unsupported(entity_type: str) -> Exception:
    from brook.cli.clients import ToolError

    return ToolError("org.apache.kafka.common.errors.UnsupportedVersionException",
                     f"Configs of entity type '{entity_type}' (client metrics) are not supported by this "
                     "kafka-configs")


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from_zookeeper = False
    try:
        o = ConfigCommandOptions(args)
        maybe_print_help_or_version(o.parser, o.opts, "This tool helps to manipulate and describe entity config for "
                                    "a topic, client, user, broker, ip or client-metrics")
        o.check_args()
        if o.opts.has(o.zookeeper):
            from_zookeeper = True
            print("Warning: --zookeeper is deprecated and will be removed in a future version of Kafka.")
            print("Use --bootstrap-server instead to specify a broker to connect to.")
            raise IllegalArgument("--zookeeper is not supported: Brook keeps no configs in ZooKeeper for this tool; "
                                  "use --bootstrap-server")
        if o.opts.has(o.alter) and len(o.entity_types()) != len(o.entity_names()):
            raise IllegalArgument("An entity name must be specified for every entity type")
        service = ConfigService(o)
        service.alter() if o.opts.has(o.alter) else service.describe()
        return 0
    except (IllegalArgument, OptionError) as e:
        print(e, file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except Exception as e:  # ConfigCommand.main's catch of any other Throwable
        if from_zookeeper:
            raise
        print(f"Error while executing config command with args '{' '.join(args)}'", file=sys.stderr)
        print(e.java() if hasattr(e, "java") else f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
