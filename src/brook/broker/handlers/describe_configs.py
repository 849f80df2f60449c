"""DescribeConfigs (key 32), v1-v4: topic and broker configs with sources, synonyms and documentation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from brook.acl import AclOperation
from brook.config.broker import BROKER_CONFIGS, SOURCE_DEFAULT, SOURCE_DYNAMIC_BROKER, SOURCE_DYNAMIC_DEFAULT
from brook.config.broker import SOURCE_STATIC as SOURCE_STATIC_BROKER
from brook.config.definition import TYPE_IDS, ConfigKey, render
from brook.config.topic import TOPIC_CONFIGS
from brook.errors import ErrorCode, KafkaError
from brook.protocol.build import make, nested
from brook.protocol.versions import response_class

from ..authz import config_refused
from . import Request

if TYPE_CHECKING:
    from ..dispatch import RequestContext
    from ..server import Broker


_ZERO = datetime.timedelta(0)
TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8
SOURCE_DYNAMIC_TOPIC = 1
SOURCE_DYNAMIC_BROKER_LOGGER = 6


@dataclass(frozen=True)
class UndeclaredKey:
    """An entry outside the config tables: a logger (ConfigHelper: not sensitive, not read-only, no type), or a
    custom broker config (of no known type, so Kafka's maybeSensitive holds it sensitive, and read-only)."""

    name: str
    sensitive: bool = False
    read_only: bool = False
    type: str = ""
    doc: str | None = None


Synonym = tuple[str, str | None, int]  # name, value, source
Entry = tuple["ConfigKey | UndeclaredKey", str | None, int, list[Synonym]]  # key, value, source, synonyms


def topic_entries(broker: Broker, topic: str, include_synonyms: bool) -> list[Entry]:
    """(key, value, source, synonyms[(name, value, source)]) for every topic config."""
    info = broker.topics.get(topic)
    overrides = info.configs if info else {}
    out: list[Entry] = []
    for key in TOPIC_CONFIGS:
        synonyms: list[Synonym] = []
        if key.name in overrides:
            synonyms.append((key.name, overrides[key.name], SOURCE_DYNAMIC_TOPIC))
        # Kafka (ConfigHelper.configSynonyms): layer by layer, each synonym in turn within a layer
        layers = [(syn, broker.config.layers(syn)) for syn in key.synonyms]
        for source in (SOURCE_DYNAMIC_BROKER, SOURCE_DYNAMIC_DEFAULT, SOURCE_STATIC_BROKER):
            synonyms += [(syn, v, s) for syn, found in layers for v, s in found if s == source]
        default_name = key.synonyms[0] if key.synonyms else key.name
        synonyms.append((default_name, render(key.default), SOURCE_DEFAULT))
        if key.name in overrides:
            value, source = render(key.parse(overrides[key.name])), SOURCE_DYNAMIC_TOPIC
        else:
            v, syn = broker.config.topic_default(key.name)
            value = render(v)
            source = SOURCE_DEFAULT if syn is None else broker.config.layers(syn)[0][1]
        out.append((key, value, source, synonyms if include_synonyms else []))
    return out


def broker_entries(broker: Broker, include_synonyms: bool, per_broker: bool = True) -> list[Entry]:
    """This broker's configs (per_broker), or only the cluster-wide dynamic defaults (the resource "")."""
    out: list[Entry] = []
    for key in BROKER_CONFIGS:
        layers = broker.config.layers(key.name)
        if not per_broker:  # Kafka lists the dynamic defaults alone, with their own value and synonym
            layers = [(v, s) for v, s in layers if s == SOURCE_DYNAMIC_DEFAULT]
            if not layers:
                continue
            value = render(key.parse(layers[0][0]))
        else:
            value = render(broker.config.get(key.name))
        source = layers[0][1] if layers else SOURCE_DEFAULT
        synonyms: list[Synonym] = []
        if include_synonyms:  # as Kafka: every layer that sets it, then Kafka's default
            synonyms = [(key.name, render(key.parse(v)), s) for v, s in layers]
            if per_broker and key.default is not None:
                synonyms.append((key.name, render(key.default), SOURCE_DEFAULT))
        out.append((key, value, source, synonyms))
    dynamic = (broker.config.dynamic_broker, broker.config.dynamic_default, broker.config.static) if per_broker \
        else (broker.config.dynamic_default,)
    for name in sorted({n for layer in dynamic for n in layer} - set(BROKER_CONFIGS.keys)):
        found = [(None, s) for _, s in broker.config.layers(name) if per_broker or s == SOURCE_DYNAMIC_DEFAULT]
        synonyms = [(name, None, s) for _, s in found] if include_synonyms else []
        out.append((UndeclaredKey(name, sensitive=True, read_only=True), None, found[0][1], synonyms))
    return out


def handle(broker: Broker, ctx: RequestContext, request: Request) -> object:
    cls = response_class(32, ctx.api_version)
    result_cls = nested(cls, "DescribeConfigsResult")
    entry_cls = nested(cls, "DescribeConfigsResourceResult")
    syn_cls = nested(cls, "DescribeConfigsSynonym")
    include_docs = getattr(request, "include_documentation", False)
    results = []
    for r in request.resources:
        error, message, entries = ErrorCode.none, None, []
        refused = config_refused(broker, ctx, AclOperation.DESCRIBE_CONFIGS, r.resource_type, r.resource_name)
        if refused is not None:
            error = refused
        elif r.resource_type == TOPIC:
            if broker.topics.get(r.resource_name) is None:
                error = ErrorCode.unknown_topic_or_partition
                message = f"Topic '{r.resource_name}' does not exist."
            else:
                entries = topic_entries(broker, r.resource_name, request.include_synonyms)
        elif r.resource_type == BROKER:
            if r.resource_name not in ("", str(broker.broker_id)):
                error, message = ErrorCode.invalid_request, f"Unexpected broker id, expected {broker.broker_id}" \
                    f" or empty string, but received {r.resource_name}"
            else:
                entries = broker_entries(broker, request.include_synonyms, per_broker=r.resource_name != "")
        elif r.resource_type == BROKER_LOGGER:
            try:
                broker.loggers.check_resource_name(r.resource_name, for_describe=True)
                entries = [(UndeclaredKey(name), level, SOURCE_DYNAMIC_BROKER_LOGGER, [])
                           for name, level in broker.loggers.loggers().items()]
            except KafkaError as e:
                error, message = e.code, e.message
        else:
            error, message = ErrorCode.invalid_request, f"Unsupported resource type {r.resource_type}"
        wanted = set(r.configuration_keys) if r.configuration_keys else None
        configs = []
        for key, value, source, synonyms in entries:
            if wanted is not None and key.name not in wanted:
                continue
            configs.append(make(
                entry_cls, name=key.name, value=None if key.sensitive else value, read_only=key.read_only,
                config_source=source, is_default=source == SOURCE_DEFAULT, is_sensitive=key.sensitive,
                synonyms=tuple(make(syn_cls, name=n, value=v, source=s) for n, v, s in synonyms),
                config_type=TYPE_IDS.get(key.type, 0), documentation=key.doc if include_docs else None))
        results.append(make(result_cls, error_code=error, error_message=message, resource_type=r.resource_type,
                            resource_name=r.resource_name, configs=tuple(configs)))
    return make(cls, throttle_time=_ZERO, results=tuple(results))
