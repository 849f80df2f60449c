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
        if self.predicate is not None and self.predicate.test(record) == self.negate:  # type: ignore[attr-defined]
            return record
        return self.transform.apply(record)  # type: ignore[attr-defined]


def build_chain(plugins, props: dict[str, str]) -> list[Stage]:
    """The configured stages; ConnectError with Kafka's wording when an alias or class is wrong."""
    predicates = {}
    for alias in [a.strip() for a in (props.get("predicates") or "").split(",") if a.strip()]:
        cfg = sub_config(props, f"predicates.{alias}.")
        if "type" not in cfg:
            raise ConnectError(f'Missing required configuration "predicates.{alias}.type" which has no default '
                               "value.")
        p = plugins.new_plugin("predicate", cfg["type"], "Predicate")
        _configure(p, {k: v for k, v in cfg.items() if k != "type"}, f"predicates.{alias}.")
        predicates[alias] = p
    stages = []
    for alias in [a.strip() for a in (props.get("transforms") or "").split(",") if a.strip()]:
        cfg = sub_config(props, f"transforms.{alias}.")
        if "type" not in cfg:
            raise ConnectError(f'Missing required configuration "transforms.{alias}.type" which has no default '
                               "value.")
        t = plugins.new_plugin("transformation", cfg["type"], "Transformation")
        own = {k: v for k, v in cfg.items() if k not in ("type", "predicate", "negate")}
        _configure(t, own, f"transforms.{alias}.")
        pred = None
        if cfg.get("predicate"):
            pred = predicates.get(cfg["predicate"])
            if pred is None:
                raise ConnectError(f"Invalid value {cfg['predicate']} for configuration transforms.{alias}.predicate"
                                   ": Predicate is not defined")
        stages.append(Stage(alias, cfg["type"], t, pred, cfg.get("negate", "false").strip().lower() == "true"))
    return stages


def _configure(plugin, cfg: dict[str, str], prefix: str) -> None:
    try:
        plugin.configure(cfg)
    except ConfigError as e:
        raise ConnectError(str(e)) from e
