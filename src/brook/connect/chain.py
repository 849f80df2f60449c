"""The transformation chain of a connector (TransformationChain, TransformationStage): the `transforms` aliases
in order, each with its `transforms.<alias>.*` config and an optional predicate (`predicate`, `negate`)."""

from __future__ import annotations

from dataclasses import dataclass

from brook.connect.configdef import ConfigError
from brook.connect.data import ConnectError


def sub_config(props: dict[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix):]: v for k, v in props.items() if k.startswith(prefix)}


@dataclass
class Stage:
    alias: str
    class_name: str
    transform: object
    predicate: object | None = None
    negate: bool = False

    def apply(self, record):
        if self.predicate is not None and self.predicate.test(record) == self.negate:
            return record
        return self.transform.apply(record)


def _aliases(props: dict[str, str], name: str) -> list[str]:
    return [a.strip() for a in (props.get(name) or "").split(",") if a.strip()]


def _plugin(plugins, props: dict[str, str], group: str, alias: str, kind: str, interface: str,
            framework_keys: tuple[str, ...]):
    """The plugin of `<group>.<alias>.type`, configured with its own `<group>.<alias>.*` settings."""
    prefix = f"{group}.{alias}."
    cfg = sub_config(props, prefix)
    if "type" not in cfg:
        raise ConnectError(f'Missing required configuration "{prefix}type" which has no default value.')
    plugin = plugins.new_plugin(kind, cfg["type"], interface)
    try:
        plugin.configure({k: v for k, v in cfg.items() if k not in framework_keys})
    except ConfigError as e:
        raise ConnectError(str(e)) from e
    return cfg, plugin


def build_chain(plugins, props: dict[str, str]) -> list[Stage]:
    """The configured stages; ConnectError with Kafka's wording when an alias or class is wrong."""
    predicates = {alias: _plugin(plugins, props, "predicates", alias, "predicate", "Predicate", ("type",))[1]
                  for alias in _aliases(props, "predicates")}
    stages = []
    for alias in _aliases(props, "transforms"):
        cfg, t = _plugin(plugins, props, "transforms", alias, "transformation", "Transformation",
                         ("type", "predicate", "negate"))
        pred = None
        if cfg.get("predicate"):
            pred = predicates.get(cfg["predicate"])
            if pred is None:
                raise ConnectError(f"Invalid value {cfg['predicate']} for configuration transforms.{alias}.predicate"
                                   ": Predicate is not defined")
        stages.append(Stage(alias, cfg["type"], t, pred, cfg.get("negate", "false").strip().lower() == "true"))
    return stages
