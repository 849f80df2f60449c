"""ConfigDef: typed, validated config definitions shared by broker and topic configs."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from brook.errors import ErrorCode, KafkaError

# Kafka's ConfigEntry types as DescribeConfigs reports them (ConfigResource ConfigType ids).
TYPE_IDS = {"boolean": 1, "string": 2, "int": 3, "short": 4, "long": 5, "double": 6, "list": 7, "class": 8,
            "password": 9}


class ConfigError(ValueError):
    """An invalid config value; the message is Kafka's wording."""


def _parse(kind: str, name: str, raw: str):
    s = raw.strip()
    try:
        if kind in ("int", "short", "long"):
            return int(s)
        if kind == "double":
            return float(s)
        if kind == "boolean":
            if s.lower() not in ("true", "false"):
                raise ValueError
            return s.lower() == "true"
        if kind == "list":
            return [p.strip() for p in s.split(",") if p.strip()]
        return raw
    except ValueError:
        raise ConfigError(f"Invalid value {raw} for configuration {name}: Not a number of type "
                          f"{kind.upper()}" if kind != "boolean" else
                          f"Invalid value {raw} for configuration {name}: Expected value to be either true "
                          "or false") from None


class TypedValues:
    """Kafka's AbstractConfig getters (getInt, getLong, ...): the value parsed by its ConfigKey's type. A value of
    another type here is a definition error, so they fail loudly instead of converting."""

    def value_of(self, name: str) -> object:
        raise NotImplementedError

    def get_int(self, name: str) -> int:
        value = self.value_of(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} is not an int: {value!r}")
        return value

    get_long = get_int  # Python ints are unbounded: Kafka's int and long read alike

    def get_bool(self, name: str) -> bool:
        value = self.value_of(name)
        if not isinstance(value, bool):
            raise TypeError(f"{name} is not a boolean: {value!r}")
        return value

    def get_double(self, name: str) -> float:
        value = self.value_of(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"{name} is not a double: {value!r}")
        return float(value)

    def get_str(self, name: str) -> str | None:
        """A string config, None when unset without a default."""
        value = self.value_of(name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} is not a string: {value!r}")
        return value

    def get_list(self, name: str) -> list[str]:
        """A list config, [] when unset without a default."""
        value = self.value_of(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise TypeError(f"{name} is not a list: {value!r}")
        return [str(v) for v in value]


def at_least(low: float) -> Callable[[str, object], None]:
    def check(name: str, v: object) -> None:
        if v < low:  # type: ignore[operator]
            raise ConfigError(f"Invalid value {v} for configuration {name}: Value must be at least {low}")
    return check


def between(low: float, high: float) -> Callable[[str, object], None]:
    def check(name: str, v: object) -> None:
        if not low <= v <= high:  # type: ignore[operator]
            raise ConfigError(f"Invalid value {v} for configuration {name}: Value must be no more than {high}"
                              if v > high else  # type: ignore[operator]
                              f"Invalid value {v} for configuration {name}: Value must be at least {low}")
    return check


def one_of(*allowed: str) -> Callable[[str, object], None]:
    def check(name: str, v: object) -> None:
        values = v if isinstance(v, list) else [v]
        for item in values:
            if item not in allowed:
                raise ConfigError(f"Invalid value {item} for configuration {name}: String must be one of: "
                                  + ", ".join(allowed))
    return check


@dataclass(frozen=True, slots=True)
class ConfigKey:
    name: str
    type: str
    default: object
    doc: str = ""
    validator: Callable[[str, object], None] | None = None
    synonyms: tuple[str, ...] = ()  # broker-level names, most specific first (Kafka's synonym order)
    sensitive: bool = False
    read_only: bool = False

    def parse(self, raw: str | None) -> object:
        if raw is None:
            return None
        value = _parse(self.type, self.name, raw)
        if self.validator is not None:
            self.validator(self.name, value)
        return value


@dataclass
class ConfigDef:
    keys: dict[str, ConfigKey] = field(default_factory=dict)

    def define(self, *keys: ConfigKey) -> ConfigDef:
        for k in keys:
            self.keys[k.name] = k
        return self

    def __contains__(self, name: str) -> bool:
        return name in self.keys

    def __iter__(self) -> Iterator[ConfigKey]:
        return iter(self.keys.values())

    def validate(self, values: Mapping[str, str | None]) -> dict[str, object]:
        """Parse and check raw strings; raises KafkaError(INVALID_CONFIG) with Kafka's message."""
        out: dict[str, object] = {}
        for name, raw in values.items():
            key = self.keys.get(name)
            if key is None:
                raise KafkaError(ErrorCode.invalid_config, f"Unknown topic config name: {name}")
            try:
                out[name] = key.parse(raw)
            except ConfigError as e:
                raise KafkaError(ErrorCode.invalid_config, str(e)) from None
        return out


def render(value: object) -> str | None:
    """A parsed value as Kafka prints it in DescribeConfigs."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)
