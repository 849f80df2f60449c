"""Connect's ConfigDef: typed definitions with the metadata that config validation reports
(importance, group, order, width, display name), validateAll and the ConfigInfos response shape.

Parsing and the validators' messages are the broker's (brook.config.definition), which follow Kafka's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from brook.config.definition import ConfigError, TypedValues, _parse, at_least, one_of  # noqa: F401 (re-exported)

NO_DEFAULT = object()
KINDS = {"BOOLEAN": "boolean", "STRING": "string", "INT": "int", "SHORT": "short", "LONG": "long",
         "DOUBLE": "double", "LIST": "list", "CLASS": "string", "PASSWORD": "string"}


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # Kafka's ConfigDef.Type name: STRING, INT, LIST, CLASS, PASSWORD, ...
    default: object = NO_DEFAULT
    doc: str = ""
    validator: Callable[[str, object], None] | None = None
    importance: str = "HIGH"
    group: str | None = None
    order: int = -1
    width: str = "NONE"
    display: str | None = None
    dependents: tuple[str, ...] = ()

    def parse(self, raw: object) -> object:
        if raw is None or not isinstance(raw, str):
            value = raw
        else:
            value = _parse(KINDS[self.type], self.name, raw)
        if self.validator is not None:
            self.validator(self.name, value)
        return value


class Parsed(dict[str, object], TypedValues):
    """ConfigDef.parse's result: every key's value, read with AbstractConfig's typed getters (get_int, ...)."""

    def value_of(self, name: str) -> object:
        return self[name]


@dataclass
class ConfigValue:
    name: str
    value: object = None
    errors: list[str] = field(default_factory=list)
    visible: bool = True


class ConfigDef:
    def __init__(self, *keys: Key) -> None:
        self.keys: dict[str, Key] = {k.name: k for k in keys}

    def define(self, *keys: Key) -> ConfigDef:
        out = ConfigDef(*self.keys.values())
        for k in keys:
            out.keys[k.name] = k
        return out

    def groups(self) -> list[str]:
        seen: list[str] = []
        for k in self.keys.values():
            if k.group and k.group not in seen:
                seen.append(k.group)
        return seen

    def parse(self, props: dict[str, str]) -> Parsed:
        """AbstractConfig: every key parsed or defaulted; raises ConfigError (Kafka's message) on the first bad one."""
        out = Parsed()
        for k in self.keys.values():
            if k.name in props:
                out[k.name] = k.parse(props[k.name])
            elif k.default is NO_DEFAULT:
                raise ConfigError(f'Missing required configuration "{k.name}" which has no default value.')
            else:
                out[k.name] = k.default  # defaults are written already parsed
        return out

    def validate_all(self, props: dict[str, str]) -> list[ConfigValue]:
        out = []
        for k in self.keys.values():
            cv = ConfigValue(k.name)
            try:
                if k.name in props:
                    cv.value = k.parse(props[k.name])
                elif k.default is NO_DEFAULT:
                    cv.errors.append(f'Missing required configuration "{k.name}" which has no default value.')
                else:
                    cv.value = k.default
            except ConfigError as e:
                cv.value = props.get(k.name)
                cv.errors.append(str(e))
            out.append(cv)
        return out


def to_string(value: object, kind: str | None) -> str | None:
    """ConfigDef.convertToString."""
    if value is None or value is NO_DEFAULT:
        return None
    if kind == "PASSWORD":
        return "[hidden]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, type):
        return value.__name__
    return str(value)


def key_info(k: Key) -> dict:
    return {"name": k.name, "type": k.type, "required": k.default is NO_DEFAULT,
            "default_value": None if k.default is NO_DEFAULT else to_string(k.default, k.type),
            "importance": k.importance, "documentation": k.doc, "group": k.group, "width": k.width,
            "display_name": k.display or k.name, "dependents": list(k.dependents), "order": k.order}


def config_infos(name: str, keys: dict[str, Key], values: list[ConfigValue], groups: list[str]) -> dict:
    """AbstractHerder.generateResult: the validate endpoint's body."""
    by_name = {v.name: v for v in values}
    configs, errors = [], 0
    for v in values:
        if v.name not in keys:
            configs.append({"definition": None, "value": _value_info(v, None)})
            errors += len(v.errors)
    for n, k in keys.items():
        found = by_name.get(n)
        if found is not None:
            errors += len(found.errors)
        configs.append({"definition": key_info(k), "value": None if found is None else _value_info(found, k.type)})
    return {"name": name, "error_count": errors, "groups": groups, "configs": configs}


def _value_info(v: ConfigValue, kind: str | None) -> dict:
    return {"name": v.name, "value": to_string(v.value, kind), "recommended_values": [], "errors": list(v.errors),
            "visible": v.visible}


def non_empty_string(name: str, value: object) -> None:
    if value is not None and value == "":
        raise ConfigError(f"Invalid value {value} for configuration {name}: String must be non-empty")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def non_empty_without_control_chars(name: str, value: object) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"Invalid value {value if value is not None else 'null'} for configuration {name}: "
                          "String may not be empty")
    if _CONTROL.search(str(value)):
        raise ConfigError(f"Invalid value {value} for configuration {name}: String may not contain control "
                          "sequences but had the following ASCII chars: "
                          + ", ".join(str(ord(c)) for c in _CONTROL.findall(str(value))))


def unique_aliases(kind: str) -> Callable[[str, object], None]:
    def check(name: str, value: object) -> None:
        if isinstance(value, list) and len(value) != len(set(value)):
            raise ConfigError(f"Invalid value {value} for configuration {name}: Duplicate alias provided.")
    return check


def valid_regex(name: str, value: object) -> None:
    if value:
        try:
            re.compile(str(value))
        except re.error as e:
            raise ConfigError(f"Invalid value {value} for configuration {name}: {e}") from None
