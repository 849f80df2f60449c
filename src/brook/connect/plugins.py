"""Plugin discovery: Brook's connectors, converters, transforms and predicates are Python entry points named by
Kafka's (or Confluent's) fully qualified class names, so configs written for Kafka name them unchanged.

Groups: brook.connect.connector, brook.connect.converter, brook.connect.header_converter,
brook.connect.transformation, brook.connect.predicate. A connector may also be named by its simple class name,
with or without the "Connector" suffix (Plugins.newConnector's aliases).
"""

from __future__ import annotations

from importlib.metadata import entry_points

from brook.connect.api import VERSION
from brook.connect.data import ConnectError

KINDS = ("connector", "converter", "header_converter", "transformation", "predicate")


class Plugins:
    def __init__(self) -> None:
        self.classes: dict[str, dict[str, object]] = {}
        for kind in KINDS:
            self.classes[kind] = {ep.name: ep for ep in entry_points(group=f"brook.connect.{kind}")}

    def load(self, kind: str, name: str) -> type:
        ep = self.classes[kind].get(name)
        if ep is None:
            raise KeyError(name)
        return ep.load()  # type: ignore[attr-defined]

    def connector_class_name(self, name: str) -> str:
        """The full class name for a connector.class value (an alias allowed); ConnectError as Kafka words it."""
        names = self.classes["connector"]
        if name in names:
            return name
        matches = [n for n in names if n.rsplit(".", 1)[-1] in (name, name + "Connector")]
        if len(matches) == 1:
            return matches[0]
        listing = ", ".join(self._desc(n, "connector") for n in sorted(names))
        if not matches:
            raise ConnectError(f"Failed to find any class that implements Connector and which name matches {name}"
                               f", available connectors are: {listing}")
        raise ConnectError(f"More than one connector matches alias {name}. Please use full package and class name "
                           f"instead. Classes found: {listing}")

    def new_connector(self, name: str):
        return self.load("connector", self.connector_class_name(name))()

    def new_plugin(self, kind: str, name: str, interface: str):
        try:
            return self.load(kind, name)()
        except KeyError:
            raise ConnectError(f"Failed to find any class that implements {interface} and which name matches "
                               f"{name}") from None

    def connector_type(self, config: dict[str, str] | None) -> str:
        try:
            return self.load("connector", self.connector_class_name((config or {})["connector.class"])).kind  # type: ignore[attr-defined]
        except (KeyError, ConnectError):
            return "unknown"

    def _desc(self, name: str, kind: str) -> str:
        return (f"PluginDesc{{klass=class {name}, name='{name}', version='{VERSION}', encodedVersion={VERSION}, "
                f"type={kind}, typeName='{kind}', location='classpath'}}")

    def config_keys(self, name: str) -> list[dict] | None:
        """GET /connector-plugins/{plugin}/config (KIP-769): a plugin's config definitions, a connector's after the
        framework's (SourceConnectorConfig / SinkConnectorConfig), the plugin's own winning a shared name; None for
        an unknown plugin."""
        from brook.connect import config as defs
        from brook.connect.configdef import key_info

        for kind in KINDS:
            try:
                cls = self.load(kind, self.connector_class_name(name) if kind == "connector" else name)
            except (KeyError, ConnectError):
                continue
            plugin = cls()
            keys = {}
            if kind == "connector":
                keys.update((defs.SOURCE if plugin.kind == "source" else defs.SINK).keys)
                keys.update(plugin.config().keys)
            else:
                own = plugin.config() if kind in ("converter", "header_converter") else plugin.config_def()
                keys.update(own.keys)
            return [key_info(k) for k in keys.values()]
        return None

    def infos(self, connectors_only: bool) -> list[dict]:
        """GET /connector-plugins in Kafka's order: sinks, sources, transformations, predicates, converters,
        header converters; each group sorted by class name."""
        connectors = [(n, self.load("connector", n).kind) for n in sorted(self.classes["connector"])]  # type: ignore[attr-defined]
        out = [{"class": n, "type": t, "version": VERSION} for want in ("sink", "source")
               for n, t in connectors if t == want]
        if not connectors_only:
            for kind in ("transformation", "predicate", "converter", "header_converter"):
                out += [{"class": n, "type": kind, "version": VERSION} for n in sorted(self.classes[kind])]
        return out
