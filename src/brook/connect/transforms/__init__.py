"""Single Message Transforms (org.apache.kafka.connect.transforms) and their predicates.

A transformation takes a record and returns a new one or None (drop). Key/Value variants are the Java nested
classes `X$Key` and `X$Value`, registered as entry points under those names.
"""

from __future__ import annotations

from brook.connect.configdef import ConfigDef


class Transformation:
    CONFIG_DEF = ConfigDef()

    def configure(self, props: dict[str, str]) -> None:
        self.config = self.CONFIG_DEF.parse(props)

    def config_def(self) -> ConfigDef:
        return self.CONFIG_DEF

    def apply(self, record):
        raise NotImplementedError

    def close(self) -> None:
        pass


class Predicate(Transformation):
    def test(self, record) -> bool:
        raise NotImplementedError
