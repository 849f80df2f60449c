"""Building kio messages for a given version: the same handler code serves every version of an API.

kio generates one dataclass per message version; fields a version lacks are dropped here, so handlers pass
the superset of fields and nested classes are looked up by name in the version's module.
"""

from __future__ import annotations

import dataclasses
import functools
import sys


@functools.cache
def field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def make(cls: type, **values: object) -> object:
    names = field_names(cls)
    return cls(**{k: v for k, v in values.items() if k in names})


@functools.cache
def nested(message_cls: type, name: str) -> type | None:
    """A nested entity class (e.g. "PartitionProduceResponse") of message_cls's version, if it has one."""
    return getattr(sys.modules[message_cls.__module__], name, None)


def has_field(cls: type, name: str) -> bool:
    return name in field_names(cls)
