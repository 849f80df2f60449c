"""kafka-configs for users, clients and ips: client quotas (through `configs_rpc`) and users' SCRAM credentials
(confluent-kafka's describe/alter_user_scram_credentials), as ConfigCommand 3.9 describes and alters them:
its checks, its messages and its output, whose order is that of the Java HashMaps the Admin client returns."""

from __future__ import annotations

import re
from typing import Any

from brook.cli.configs import IllegalArgument
from brook.cli.configs_rpc import ANY, DEFAULT, EXACT, RpcAdmin

QUOTA_KEYS = ("producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate")
IP_KEYS = ("connection_creation_rate",)
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
ENTITY = {"users": "user", "clients": "client-id", "ips": "ip"}  # ClientQuotaEntity types
DESCRIBED_AS = {"user": "user-principal", "client-id": "client-id", "ip": "ip"}
DEFAULT_ITERATIONS, MIN_ITERATIONS = 4096, 4096


def scala_set(items: list[str]) -> str:
    return f"Set({', '.join(dict.fromkeys(items))})"


def scala_buffer(items: list[str]) -> str:  # a Seq mapped from a Java list: Scala 2.13's ArrayBuffer
    return f"ArrayBuffer({', '.join(items)})"


def quota_components(types: list[str], names: list[str]) -> list[tuple[str, int, str | None]]:
    """ConfigCommand.getAllClientQuotasConfigs: one filter component per entity type, names paired in order."""
    if len(names) > len(types):
        raise IllegalArgument("More entity names specified than entity types")
    out = []
    for i, entity_type in enumerate(types):
        if entity_type not in ENTITY:
            raise IllegalArgument(f"Unexpected entity type {entity_type}")
        name = names[i] if i < len(names) else None
        out.append((ENTITY[entity_type], ANY if name is None else DEFAULT if name == "" else EXACT, name or None))
    return out


def quota_lines(quotas: list[tuple[dict[str, str | None], dict[str, float]]]) -> list[str]:
    """describeQuotaConfigs: "Quota configs for <entity> are k=v, ..." per entity, in HashMap order."""
    from brook.cli.java_collections import double_str, hash_order, map_hash, string_hash

    lines = []
    for entity, values in hash_order(quotas, lambda q: 31 + map_hash(q[0]), initial_capacity=len(quotas)):
        described = [f"{DESCRIBED_AS[t]} '{entity[t]}'" if entity[t] is not None else f"the default {DESCRIBED_AS[t]}"
                     for t in ("user", "client-id", "ip") if t in entity]
        keys = hash_order(values, string_hash, initial_capacity=len(values))
        lines.append(f"Quota configs for {', '.join(described)} are "
                     f"{', '.join(f'{k}={double_str(values[k])}' for k in keys)}")
    return lines


def describe(admin: Any, rpc: RpcAdmin, types: list[str], names: list[str]) -> None:
    """describeClientQuotaAndUserScramCredentialConfigs (and describeQuotaConfigs for ips)."""
    for line in quota_lines(rpc.describe_client_quotas(quota_components(types, names), strict=True)):
        print(line)
    if types[0] == "ips" or "clients" in types or "" in names:
        return  # SCRAM credentials only for users named (or all users), never with clients or a default
    for user, infos in scram_credentials(admin, names):
        if isinstance(infos, Exception):
            print(f"Error retrieving SCRAM credential configs for user-principal '{user}': {infos}")
        else:
            text = ", ".join(f"{m.name.replace('_', '-')}=iterations={i}" for m, i in infos)
            print(f"SCRAM credential configs for user-principal '{user}' are {text}")


def scram_credentials(admin: Any, users: list[str]) -> list[tuple[str, Any]]:
    """(user, [(mechanism, iterations)] or the exception as Kafka prints it, 'SimpleName: message'), users
    without any left out (DescribeUserScramCredentialsResult.users() drops RESOURCE_NOT_FOUND)."""
    from confluent_kafka import KafkaException

    from brook.cli.clients import ToolError, from_kafka

    def infos(description: Any) -> list[tuple[Any, int]]:
        return [(c.mechanism, c.iterations) for c in description.scram_credential_infos]

    try:
        if not users:
            described = admin.describe_user_scram_credentials(request_timeout=30).result(timeout=30)
            return [(user, infos(d)) for user, d in described.items()]
        futures = admin.describe_user_scram_credentials(list(dict.fromkeys(users)), request_timeout=30)
    except KafkaException as e:
        raise ToolError("java.util.concurrent.ExecutionException",
                        from_kafka(e, "describeUserScramCredentials").java()) from None
    out: list[tuple[str, Any]] = []
    for user, future in futures.items():
        try:
            out.append((user, infos(future.result(timeout=30))))
        except KafkaException as e:
            error = from_kafka(e, "describeUserScramCredentials")
            if error.code != 91:  # RESOURCE_NOT_FOUND: the user has no credentials
                out.append((user, Exception(f"ExecutionException: {error.java()}")))  # the .get()'s exception
    return out


def alter(admin: Any, rpc: RpcAdmin, types: list[str], names: list[str], to_add: dict[str, str],
          to_delete: list[str]) -> None:
    """ConfigCommand.alterConfig for users, clients and ips."""
    head = types[0]
    if head == "ips":
        unknown = [k for k in [*to_add, *to_delete] if k not in IP_KEYS]
        if unknown:
            raise IllegalArgument("Only connection quota configs can be added for 'ips' using --bootstrap-server. "
                                  f"Unexpected config names: {','.join(unknown)}")
        return alter_quotas(rpc, types, names, to_add, to_delete)
    scram_add = [k for k in to_add if k in SCRAM_MECHANISMS]
    scram_delete = [k for k in to_delete if k in SCRAM_MECHANISMS]
    unknown_add = [k for k in to_add if k not in SCRAM_MECHANISMS and k not in QUOTA_KEYS]
    unknown_delete = [k for k in to_delete if k not in SCRAM_MECHANISMS and k not in QUOTA_KEYS]
    quotas = any(k in QUOTA_KEYS for k in [*to_add, *to_delete])
    if head == "clients" or len(types) == 2:
        if unknown_add or scram_add:
            raise IllegalArgument("Only quota configs can be added for 'clients' using --bootstrap-server. "
                                  f"Unexpected config names: {scala_set(unknown_add + scram_add)}")
        if unknown_delete or scram_delete:
            raise IllegalArgument("Only quota configs can be deleted for 'clients' using --bootstrap-server. "
                                  f"Unexpected config names: {scala_buffer(unknown_delete + scram_delete)}")
    else:
        if unknown_add:
            raise IllegalArgument("Only quota and SCRAM credential configs can be added for 'users' using "
                                  f"--bootstrap-server. Unexpected config names: {scala_set(unknown_add)}")
        if unknown_delete:
            raise IllegalArgument("Only quota and SCRAM credential configs can be deleted for 'users' using "
                                  f"--bootstrap-server. Unexpected config names: {scala_buffer(unknown_delete)}")
        if scram_add or scram_delete:
            if "" in names:
                raise IllegalArgument("The use of --entity-default or --user-defaults is not allowed with User "
                                      "SCRAM Credentials using --bootstrap-server.")
            if quotas:
                raise IllegalArgument("Cannot alter both quota and SCRAM credential configs simultaneously for "
                                      "'users' using --bootstrap-server.")
    if quotas:
        return alter_quotas(rpc, types, names, to_add, to_delete)
    return alter_scram(admin, names[0], {k: to_add[k] for k in scram_add}, scram_delete)


def alter_quotas(rpc: RpcAdmin, types: list[str], names: list[str], to_add: dict[str, str],
                 to_delete: list[str]) -> None:
    if len(types) != len(names):
        raise IllegalArgument("Exactly one entity name must be specified for every entity type")
    found = rpc.describe_client_quotas(quota_components(types, names), strict=True)
    old = found[0][1] if found else {}
    invalid = [k for k in to_delete if k not in old]
    if invalid:
        raise IllegalArgument(f"Invalid config(s): {','.join(invalid)}")
    entity = {ENTITY[t]: n or None for t, n in zip(types, names, strict=True)}
    ops: list[tuple[str, float | None]] = []
    for key, value in to_add.items():
        try:
            ops.append((key, java_double(value)))
        except ValueError:
            raise IllegalArgument(f"Cannot parse quota configuration value for {key}: {value}") from None
    rpc.alter_client_quotas(entity, ops + [(k, None) for k in to_delete])


def java_double(text: str) -> float:
    """Double.parseDouble: surrounding whitespace, a trailing d/f, NaN and Infinity are accepted."""
    s = text.strip()
    if re.fullmatch(r"[+-]?(NaN|Infinity)", s):
        return float(s.replace("Infinity", "inf"))
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?", s):
        raise ValueError(text)
    return float(s.rstrip("dDfF"))


def java_int(text: str) -> int:
    """Integer.parseInt (String.toInt), whose NumberFormatException ConfigCommand prints."""
    if not re.fullmatch(r"[+-]?\d+", text) or not -(2**31) <= int(text) < 2**31:
        raise IllegalArgument(f'For input string: "{text}"')
    return int(text)


def alter_scram(admin: Any, user: str, to_add: dict[str, str], to_delete: list[str]) -> None:
    """alterUserScramCredentialConfigs: confluent-kafka salts and hashes the password (as Kafka's Admin does)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import (
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialDeletion,
        UserScramCredentialUpsertion,
    )

    from brook.cli.clients import ToolError, from_kafka

    def mechanism(name: str) -> Any:
        return ScramMechanism[name.replace("-", "_")]

    alterations: list[Any] = [UserScramCredentialDeletion(user, mechanism(m)) for m in to_delete]
    for name, spec in to_add.items():
        m = re.fullmatch(r"(?:iterations=(-?[0-9]*),)?password=(.*)", spec)
        if m is None:  # the internal ScramMechanism enum's name, as Kafka's message shows it
            raise IllegalArgument(f"Invalid credential property {name.replace('-', '_')}={spec}")
        iterations = DEFAULT_ITERATIONS if m.group(1) in (None, "-1") else java_int(m.group(1))
        if iterations < MIN_ITERATIONS:
            raise IllegalArgument(f"Iterations {iterations} is less than the minimum {MIN_ITERATIONS} required for "
                                  f"{name}")
        alterations.append(UserScramCredentialUpsertion(
            user, ScramCredentialInfo(mechanism(name), iterations), m.group(2).encode()))
    try:
        for future in admin.alter_user_scram_credentials(alterations, request_timeout=60).values():
            future.result(timeout=60)
    except KafkaException as e:
        raise ToolError("java.util.concurrent.ExecutionException",
                        from_kafka(e, "alterUserScramCredentials").java()) from None
