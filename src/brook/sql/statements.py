"""What the parser (parser.py) builds: one small dataclass per kind of ksqlDB statement, expressions as tuples
(column references keeping their place in the request), and types printed as ksqlDB prints them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brook.sql.windows import WindowSpec


@dataclass
class Join:
    kind: str  # INNER | LEFT | RIGHT | FULL
    source: str
    alias: str | None
    on: Any
    within: tuple[int, int] | None = None  # (before, after) in ms
    grace: int | None = None


@dataclass
class Query:
    items: list  # ("*",) | ("src*", name) | ("expr", expr, alias or None)
    source: str
    alias: str | None
    where: Any = None
    group_by: list | None = None
    joins: list[Join] = field(default_factory=list)
    window: WindowSpec | None = None
    partition_by: list | None = None
    having: Any = None
    emit: str | None = None  # CHANGES | FINAL | None (a pull query)
    limit: int | None = None


@dataclass
class Create:
    kind: str  # STREAM | TABLE
    name: str
    elements: list = field(default_factory=list)  # (name, type, constraint or None)
    props: dict = field(default_factory=dict)
    query: Query | None = None
    or_replace: bool = False
    if_not_exists: bool = False
    source: bool = False


@dataclass
class Show:
    what: str
    extended: bool = False


@dataclass
class Describe:
    name: str
    extended: bool = False


@dataclass
class Drop:
    kind: str
    name: str
    if_exists: bool = False
    delete_topic: bool = False


@dataclass
class Alter:
    kind: str
    name: str
    columns: list  # (name, type) added as value columns


@dataclass
class InsertValues:
    target: str
    columns: list | None
    values: list


@dataclass
class InsertSelect:
    target: str
    query: Query
    props: dict = field(default_factory=dict)


@dataclass
class SetProperty:
    name: str
    value: str


@dataclass
class UnsetProperty:
    name: str


@dataclass
class Terminate:
    query_id: str | None  # None: TERMINATE ALL


@dataclass
class PrintTopic:
    topic: str
    quoted: bool  # a 'string' names the topic exactly; an identifier was upper-cased
    from_beginning: bool = False
    interval: int = 1
    limit: int | None = None


@dataclass
class Explain:
    query_id: str | None  # EXPLAIN <query id>
    query: Any = None  # EXPLAIN <SELECT ...>


class ParseError(Exception):
    """A statement ksqlDB's parser rejects: the message reads "line L:C: Syntax Error..." as ksqlDB's."""


@dataclass
class Statement:
    text: str  # as the user wrote it, semicolon included (ksqlDB's statementText)
    node: Any


class Col(tuple):
    """A column reference ("col", qualifier, name) that keeps where the request names it, for ksqlDB's
    `Line: l, Col: c: ` in errors; it compares as the plain tuple."""

    pos: tuple[int, int] | None = None


class Name(str):
    """A source name that keeps where the request names it (INSERT INTO's target), as Col does."""

    pos: tuple[int, int] | None = None


def position(e: Any) -> str:
    """`Line: l, Col: c: ` of a column reference the parser made, else nothing."""
    pos = getattr(e, "pos", None)
    return f"Line: {pos[0]}, Col: {pos[1]}: " if pos else ""


def type_str(t: tuple) -> str:
    """A type as ksqlDB prints it (DESCRIBE, schemas): INTEGER, ARRAY<STRING>, STRUCT<`A` STRING>..."""
    if t[0] == "ARRAY":
        return f"ARRAY<{type_str(t[1])}>"
    if t[0] == "MAP":
        return f"MAP<{type_str(t[1])}, {type_str(t[2])}>"
    if t[0] == "STRUCT":
        return "STRUCT<" + ", ".join(f"`{n}` {type_str(ft)}" for n, ft in t[1]) + ">"
    if t[0] == "DECIMAL":
        return f"DECIMAL({t[1]}, {t[2]})"
    return t[0]
