"""Building kio messages for a given version: the same handler code serves every version of an API.

kio generates one dataclass per message version; fields a version lacks are dropped here, so handlers pass
the superset of fields and nested classes are looked up by name in the version's module.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from typing import Any


@functools.cache
def field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def make(cls: type, **values: object) -> Any:
    """kio's message of `cls` (Any: which class, hence which fields, depends on the version at run time)."""
    names = field_names(cls)
    return cls(**{k: v for k, v in values.items() if k in names})


class _Absent:
    """What `nested` gives for an entity the version lacks: handlers look classes up for every version they serve and
    build only those their version has, so building this one is a bug (TypeError, as calling None was)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError(f"{type(self).__name__}: this version of the message has no such entity")


@functools.cache
def nested(message_cls: type, name: str) -> type:
    """A nested entity class (e.g. "PartitionProduceResponse") of message_cls's version (see `_Absent`)."""
    return nested_if_any(message_cls, name) or _Absent


@functools.cache
def nested_if_any(message_cls: type, name: str) -> type | None:
    """A nested entity class of message_cls's version, None if that version has none."""
    cls: type | None = getattr(sys.modules[message_cls.__module__], name, None)
    return cls


def has_field(cls: type, name: str) -> bool:
    return name in field_names(cls)
