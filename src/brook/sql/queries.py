"""Sources (streams and tables), query plans (filter and project, compiled once), and the persistent query that
runs a plan inside the server: a consumer group named as ksqlDB names it, a murmur2 producer, per-batch work."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from brook.sql import formats
from brook.sql.expressions import (
    Compiler,
    SqlError,
    check_columns,
    expr_text,
    generated_names,
    rewrite,
    unqualified,
)
from brook.sql.functions import AGGREGATES, TABLE_FUNCTIONS
from brook.sql.parser import Query, type_str
from brook.sql.windows import WindowSpec

PSEUDO = {"ROWTIME": ("BIGINT",), "ROWPARTITION": ("INTEGER",), "ROWOFFSET": ("BIGINT",)}
log = logging.getLogger("processing")


@dataclass
class Source:
    name: str
    kind: str  # STREAM | TABLE
    topic: str
    key_format: str
    value_format: str
    columns: list  # (name, type, namespace: "KEY" | "PRIMARY KEY" | None)
    statement: str
    partitions: int = 1
    replicas: int = 1
    wrap_single: bool = True
    is_source: bool = False
    cas_target: bool = False  # made by a CREATE ... AS SELECT (ALTER refuses it)
    # the schema-registry formats' serdes (srformats.SrSerde), one per source and side, set by the engine
    key_serde: Any = field(default=None, repr=False, compare=False)
    value_serde: Any = field(default=None, repr=False, compare=False)
    window: WindowSpec | None = None  # a windowed table: its key holds the window's bounds
    timestamp: str | None = None  # WITH (TIMESTAMP='col'): the column that is its records' time (ksqlDB's extractor)
    timestamp_format: str | None = None  # WITH (TIMESTAMP_FORMAT=...): how a STRING timestamp column reads
    # KEY_SCHEMA_FULL_NAME / VALUE_SCHEMA_FULL_NAME: the Avro record or Protobuf message names (srformats.full_names)
    key_full_name: str | None = None
    value_full_name: str | None = None
    # KEY_DELIMITER / VALUE_DELIMITER: the DELIMITED format's field separator (serde_checks.delimiters)
    key_delimiter: str = ","
    value_delimiter: str = ","
    # KEY/VALUE_PROTOBUF_NULLABLE_REPRESENTATION: "optional" / "wrapper" (sql/protobuf_nullable.py)
    key_nullable: str | None = None
    value_nullable: str | None = None

    def record_time(self, row: dict[str, Any] | None) -> int | None:
        """The time WITH (TIMESTAMP='col') gives a row: a BIGINT or TIMESTAMP column's milliseconds, a STRING
        column read with TIMESTAMP_FORMAT (in UTC unless the text names a zone); None without the property (or
        without a row), -1 for a null, negative or unreadable value: ksqlDB's extractor logs it and Kafka Streams
        drops the record."""
        if row is None or self.timestamp is None:
            return None
        value = row.get(self.timestamp)
        if isinstance(value, str) and self.timestamp_format is not None:
            from .functions_datetime import parse_timestamp

            try:
                value = parse_timestamp(value, self.timestamp_format)
            except (ValueError, OverflowError):
                return -1
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else -1

    def scope(self) -> dict[str, tuple]:
        """The columns a query over this source can name: pseudo columns, window bounds, the source's own."""
        bounds = {"WINDOWSTART": ("BIGINT",), "WINDOWEND": ("BIGINT",)} if self.window else {}
        return {**PSEUDO, **bounds, **{n: t for n, t, _ in self.columns}}

    @property
    def key_columns(self) -> list[tuple[str, tuple]]:
        return [(n, t) for n, t, ns in self.columns if ns in ("KEY", "PRIMARY KEY")]

    @property
    def value_columns(self) -> list[tuple[str, tuple]]:
        return [(n, t) for n, t, ns in self.columns if ns not in ("KEY", "PRIMARY KEY") and not is_header(ns)]

    @property
    def header_columns(self) -> list[tuple[str, str | None]]:
        """HEADERS columns (every header: None) and HEADER('k') columns (the key's last header), by name."""
        return [(n, header_key(ns)) for n, _, ns in self.columns if is_header(ns)]

    def encode_key(self, row: dict[str, Any], columns: Sequence[tuple[str, tuple | None]]) -> bytes | None:
        if self.key_serde is not None:
            return self.key_serde.serialize(row)
        return formats.key_serialize(self.key_format, row, columns, self.key_delimiter)

    def encode_value(self, row: dict[str, Any] | None, columns: Sequence[tuple[str, tuple | None]]
                     ) -> bytes | None:
        if self.value_serde is not None:
            return self.value_serde.serialize(row)
        return formats.serialize(self.value_format, row, columns, self.wrap_single, self.value_delimiter)

    def decode(self, msg: Any) -> dict[str, Any] | None:
        """A consumed record as a row with the pseudo columns; None for a tombstone."""
        if self.value_serde is not None:
            value = self.value_serde.deserialize(msg.value())
        else:
            value = formats.deserialize(self.value_format, msg.value(), self.value_columns, self.value_delimiter)
        if value is None:
            return None
        return self._with_key(msg, value)

    def decode_key(self, msg: Any) -> dict[str, Any]:
        """A record whose value is null as a row: its key and pseudo columns, the value columns null."""
        return self._with_key(msg, dict.fromkeys(n for n, _ in self.value_columns))

    def _with_key(self, msg: Any, value: dict[str, Any]) -> dict[str, Any]:
        key = msg.key()
        if self.window is not None and key is not None:
            key, value["WINDOWSTART"], value["WINDOWEND"] = self.window.split_key(key)
        if self.key_columns:
            if self.key_serde is not None:
                value.update(self.key_serde.deserialize(key) or {})
            else:
                value.update(formats.key_deserialize(self.key_format, key, self.key_columns, self.key_delimiter) or {})
        if self.header_columns:
            headers = msg.headers() or []
            for name, wanted in self.header_columns:
                if wanted is None:
                    value[name] = [{"KEY": k, "VALUE": v} for k, v in headers]
                else:
                    value[name] = next((v for k, v in reversed(headers) if k == wanted), None)
        value["ROWTIME"] = msg.timestamp()[1]
        value["ROWPARTITION"] = msg.partition()
        value["ROWOFFSET"] = msg.offset()
        return value


def is_header(ns: Any) -> bool:
    """A HEADERS or HEADER('k') column's namespace."""
    return isinstance(ns, str) and ns.startswith("HEADER")


def header_key(ns: str) -> str | None:
    return None if ns == "HEADERS" else ns[len("HEADER('"):-2].replace("''", "'")


def _is_aggregate(e: Any) -> bool:
    if not isinstance(e, tuple):
        return False
    if e[0] == "call" and e[1] in AGGREGATES:
        return True
    return any(_is_aggregate(x) for x in e[1:] if isinstance(x, (tuple, list))) or any(
        _is_aggregate(x) for part in e[1:] if isinstance(part, list) for x in part)


def _and(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def key_missing(sink_name: str, kind: str, required: list[str]) -> SqlError:
    """PlanNode.throwKeysNotIncludedError, for keys that are not synthetic (no documentation link)."""
    many = len(required) > 1
    return SqlError(f"Key{'s' if many else ''} missing from projection (ie, SELECT). \nThe query used to build "
                    f"`{sink_name}` must include the {kind}{'s' if many else ''} {_and(required)} in its projection "
                    f"(eg, SELECT {', '.join(required)}...).")


def key_twice(key: str, aliases: list[str]) -> SqlError:
    return SqlError(f"The projection contains a key column (`{key}`) more than once, aliased as: "
                    f"{_and(sorted(aliases))}.\nEach key column must only be in the projection once. If you intended "
                    "to copy the key into the value, then consider using the AS_VALUE function to indicate which key "
                    "reference should be copied.")


def _nested_table_function(expr: Any) -> tuple | None:
    """The table function call inside `expr` (not `expr` itself), if any."""
    found: list[tuple] = []

    def visit(x: Any) -> None:
        if isinstance(x, tuple) and x[:1] == ("call",) and x[1] in TABLE_FUNCTIONS and x is not expr:
            found.append(x)

    rewrite(expr, visit)
    return found[0] if found else None


def expand_struct_stars(query: Query, type_of: Callable[[Any], tuple | None]) -> Query:
    """`struct->*` in a SELECT: one column per field of the struct, named by the field (select-struct-all.json)."""
    if not any(i[0] == "struct*" for i in query.items):
        return query
    items: list = []
    for item in query.items:
        if item[0] != "struct*":
            items.append(item)
            continue
        t = type_of(item[1])
        if t is None or t[0] != "STRUCT":
            raise SqlError(f"Expected a STRUCT for {expr_text(item[1])}->*, got {type_str(t) if t else 'NULL'}")
        items += [("expr", ("deref", item[1], name), name) for name, _ in t[1]]
    return dataclasses.replace(query, items=items)


def partition_keys(partition_by: list) -> list:
    """The key expressions of a PARTITION BY (none for `PARTITION BY NULL`: a stream without a key)."""
    nulls = [e for e in partition_by if e[0] == "lit" and e[1] is None]
    if nulls and len(partition_by) > 1:
        raise SqlError("Cannot PARTITION BY multiple columns including NULL")
    return [] if nulls else [("col", None, e[2]) if e[0] == "col" else e for e in partition_by]


def star_key_names(key_exprs: list, taken: set[str]) -> list[tuple[str, tuple]]:
    """`SELECT *` with PARTITION BY: the key columns' names, a column's own, a struct field's name, else
    KSQL_COL_n."""
    out, n = [], 0
    for e in key_exprs:
        if e[0] in ("col", "deref"):
            out.append((e[2], e))
            continue
        while f"KSQL_COL_{n}" in taken:
            n += 1
        out.append((f"KSQL_COL_{n}", e))
        n += 1
    return out


def columns_schema(columns: list[tuple[str, tuple | None, bool]]) -> str:
    """A sink's columns as ksqlDB's schema text (a NULL-typed column is a STRING)."""
    return ", ".join(f"`{n}` {type_str(t) if t else 'STRING'}" + (" KEY" if k else "") for n, t, k in columns)


class Plan:
    """SELECT ... FROM source [WHERE ...]: output columns (name, type, is key) and `apply(row)`."""

    def __init__(self, query: Query, source: Source, sink_name: str = "the sink") -> None:
        self.compiler = Compiler(source.scope(), query.alias, source.name)
        query = expand_struct_stars(query, self.compiler.type_of)
        check_columns(self.compiler, query)
        aggregates = [i for i in query.items if i[0] == "expr" and _is_aggregate(i[1])]
        if aggregates or query.having:
            plain = [expr_text(i[1]) for i in query.items if i[0] == "expr" and not _is_aggregate(i[1])]
            if plain:
                raise SqlError(f"Non-aggregate SELECT expression(s) not part of GROUP BY: {', '.join(plain)}")
            raise SqlError("CREATE TABLE AS SELECT statement does not support aggregate function "
                           f"[{', '.join(expr_text(i[1]) for i in aggregates)}] without a GROUP BY clause.")
        where = unqualified(query.where)  # ksqlDB prints a single source's columns unqualified
        self.where = self.compiler.compile_filter(where, "WHERE") if where is not None else None
        if where is not None:
            t = self.compiler.type_of(where)
            if t and t[0] != "BOOLEAN":
                raise SqlError(f"Type error in WHERE expression: Should evaluate to boolean but is "
                               f"{expr_text(where)} ({type_str(t)}) instead.")
        key_exprs = [("col", None, n) for n, _ in source.key_columns]
        if query.partition_by:  # PARTITION BY: its expressions are the new key, the old key a value column
            key_exprs = partition_keys(query.partition_by)
            for e in key_exprs:
                self.compiler.type_of(e)
        self.columns: list[tuple[str, tuple | None, bool]] = []
        self.fns: list[Callable[[dict[str, Any]], Any]] = []
        self.table_functions: list[int] = []
        self.exprs: list = []
        generated = generated_names(query.items, [n for n, _, _ in source.columns])
        for index, item in enumerate(query.items):
            if item[0] in ("*", "src*"):
                if item[0] == "src*" and item[1] not in self.compiler.qualifiers:
                    raise SqlError(f"'{item[1]}' is not a valid stream/table name or alias.")
                keys = [(n, t) for n, t, ns in source.columns if ns in ("KEY", "PRIMARY KEY")]
                bounds = [("WINDOWSTART", ("BIGINT",)), ("WINDOWEND", ("BIGINT",))] if source.window else []
                values = [(n, t) for n, t, ns in source.columns if ns not in ("KEY", "PRIMARY KEY")]  # headers too
                if query.partition_by:  # the new key first, then the values, then the old key (ksqlDB's order)
                    for name, e in star_key_names(key_exprs, {n for n, _ in keys + values}):
                        self._add(name, self.compiler.type_of(e), True, e)
                    moved = {e[2] for e in key_exprs if e[0] == "col"}
                    for n, t in [c for c in values + keys + bounds if c[0] not in moved]:
                        self._add(n, t, False, ("col", None, n))
                    continue
                for n, t in keys + bounds + values:
                    # a windowed source's bounds belong to its key (ksqlDB: `WINDOWSTART` BIGINT KEY)
                    is_key = ("col", None, n) in key_exprs or (bool(bounds) and not query.partition_by
                                                              and n in ("WINDOWSTART", "WINDOWEND"))
                    self._add(n, t, is_key, ("col", None, n))
                continue
            expr, alias = item[1], item[2]
            name = alias or (expr[2] if expr[0] == "col" else generated[index])
            bare = ("col", None, expr[2]) if expr[0] == "col" else expr
            nested = _nested_table_function(expr)
            if nested is not None or (expr[0] == "call" and expr[1] in TABLE_FUNCTIONS):
                if source.kind == "TABLE":  # ksqlDB's QueryAnalyzer
                    raise SqlError("Table source is not supported with table functions")
                self.table_functions.append(len(self.fns))
            if nested is not None:  # EXPLODE(a)->F1: the outer expression over each element the function gives
                self._add_over_elements(name, expr, nested)
                continue
            self._add(name, self.compiler.select_type(expr), bare in key_exprs, expr)
        if query.partition_by:
            self._key_first(key_exprs, source, sink_name)
        self.limit = query.limit

    def _add_over_elements(self, name: str, expr: tuple, call: tuple) -> None:
        """A column whose expression holds a table function: a list, the expression over each of its elements
        (exploded with the other table functions' columns by apply_all)."""
        slot = f"\0TF{len(self.fns)}"
        self.compiler.columns[slot] = self.compiler.type_of(call) or ("STRING",)  # the element's type
        outer = rewrite(expr, lambda x: ("col", None, slot) if x is call else None)
        elements, each = self.compiler.compile(call), self.compiler.compile(outer)

        def over_elements(row: dict[str, Any]) -> list:
            return [each({**row, slot: x}) for x in elements(row) or []]

        self._add(name, self.compiler.type_of(outer), False, expr, over_elements)

    def _key_first(self, key_exprs: list, source: Source, sink_name: str) -> None:
        """PARTITION BY: every expression projected once; the key columns first, in PARTITION BY's order."""
        if any(e not in self.exprs for e in key_exprs):  # ksqlDB then names them all
            qualified = [expr_text(rewrite(e, lambda x: ("col", source.name, x[2]) if isinstance(x, tuple)
                                           and x[:1] == ("col",) else None)) for e in key_exprs]
            raise key_missing(sink_name, "partitioning expression", qualified)
        for e in key_exprs:
            aliases = [c[0] for c, x in zip(self.columns, self.exprs, strict=True) if x == e]
            if len(aliases) > 1:
                raise key_twice(expr_text(e), aliases)
        order = sorted(range(len(self.columns)), key=lambda i: key_exprs.index(self.exprs[i])
                       if self.columns[i][2] else len(key_exprs))
        functions = {self.fns[i] for i in self.table_functions}
        self.columns = [self.columns[i] for i in order]
        self.fns = [self.fns[i] for i in order]
        self.exprs = [self.exprs[i] for i in order]
        self.table_functions = [i for i, f in enumerate(self.fns) if f in functions]

    def check_sink(self, source: Source, sink_name: str, partitioned: bool) -> None:
        """A persistent query's projection as ksqlDB's FinalProjectNode checks it: each key column once and every
        one of them (PARTITION BY's were checked with the plan), and some value column."""
        if not partitioned:
            projected: dict[tuple, list[str]] = {}
            for (name, _, is_key), e in zip(self.columns, self.exprs, strict=True):
                if is_key:
                    projected.setdefault(e, []).append(name)
            for e, names in projected.items():
                if len(names) > 1:
                    raise key_twice(e[2], names)
            keys = [n for n, _ in source.key_columns]
            if any(("col", None, n) not in projected for n in keys):
                raise key_missing(sink_name, "key column", keys)
        if all(k or n in ("WINDOWSTART", "WINDOWEND") for n, _, k in self.columns):
            raise SqlError("The projection contains no value columns.")

    def _add(self, name: str, t: tuple | None, is_key: bool, expr: tuple,
             fn: Callable[[dict[str, Any]], Any] | None = None) -> None:
        if any(name == c[0] for c in self.columns):
            raise SqlError(f"Duplicate value columns found in schema: `{name}` {type_str(t) if t else 'NULL'}")
        self.columns.append((name, t, is_key))
        self.fns.append(fn or self.compiler.compile(expr))
        self.exprs.append(("col", None, expr[2]) if expr[0] == "col" else expr)

    def schema(self) -> str:
        return columns_schema(self.columns)

    def apply(self, row: dict[str, Any]) -> list | None:
        if self.where is not None and self.where(row) is not True:
            return None
        return [f(row) for f in self.fns]

    def apply_all(self, row: dict[str, Any]) -> list[list]:
        """The rows a record gives: none (filtered), one, or one per element of the table functions' arrays (the
        shorter arrays padded with NULL, as ksqlDB's EXPLODE)."""
        values = self.apply(row)
        if values is None:
            return []
        if not self.table_functions:
            return [values]
        arrays = [values[i] or [] for i in self.table_functions]
        out = []
        for n in range(max(len(a) for a in arrays)):
            exploded = list(values)
            for i, a in zip(self.table_functions, arrays, strict=True):
                exploded[i] = a[n] if n < len(a) else None
            out.append(exploded)
        return out

    def run_batch(self, source: Source, msgs: list) -> list[tuple[Any, list]]:
        """Decoded and projected rows of a batch; bad records are logged and skipped, as ksqlDB's processing log."""
        out = []
        for msg in msgs:
            if msg.error():
                continue
            try:
                row = source.decode(msg)
                if row is None:
                    continue
                results = self.apply_all(row)
            except (formats.SerdeError, TypeError, ValueError, ArithmeticError) as e:
                log.warning("Error processing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
                continue
            out += [(msg, values) for values in results]
        return out


@dataclass
class PersistentQuery:
    query_id: str
    statement: str
    source: Source
    sink: Source
    plan: Plan
    group_id: str
    client_props: dict
    offset_reset: str
    guarantee: str = "at_least_once"  # processing.guarantee
    consumer_props: dict = field(default_factory=dict)
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    state: str = "RUNNING"
    error: str = ""
    errors: list[dict] = field(default_factory=list)  # ksqlDB's queryErrors (EXPLAIN): timestamp, message, type
    inputs: list[str] = field(default_factory=list)  # the sources a join reads (DROP refuses them)

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=self.query_id, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(30)

    def describe(self) -> dict:
        return {"queryString": self.statement, "sinks": [self.sink.name], "sinkKafkaTopics": [self.sink.topic],
                "id": self.query_id, "statusCount": {self.state: 1}, "queryType": "PERSISTENT", "state": self.state}

    def consumer(self, eos: bool = False) -> Any:
        """The query's consumer: its own group (ksqlDB's application id), offsets committed by the query."""
        from confluent_kafka import Consumer

        return Consumer({**self.client_props, **self.consumer_props, "group.id": self.group_id,
                         "enable.auto.commit": False, "auto.offset.reset": self.offset_reset,
                         "isolation.level": "read_committed" if eos else "read_uncommitted"})

    def _run(self) -> None:
        raise NotImplementedError
