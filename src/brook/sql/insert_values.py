"""INSERT INTO name [(columns)] VALUES (...): one row, coerced to the columns' types, written in the source's
formats and acknowledged before the statement is answered (ksqlDB's InsertValuesExecutor and its refusals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brook.sql import formats
from brook.sql.expressions import Compiler, SqlError
from brook.sql.parser import InsertValues

if TYPE_CHECKING:
    from brook.sql.engine import Engine


def insert_values(engine: Engine, node: InsertValues) -> None:
    source = engine.sources.get(node.target)
    if source is None:  # InsertValuesExecutor, with the metastore's case hint
        from brook.sql.rest_inserts import alternatives

        raise SqlError(f"Cannot insert values into an unknown stream/table: `{node.target}`"
                       + alternatives(engine, node.target))
    if source.is_source:
        raise SqlError(f"Cannot insert values into read-only {source.kind.lower()}: {source.name}")
    names = node.columns or [n for n, _, _ in source.columns]
    headers = [n for n, _ in source.header_columns if n in names]
    if headers:
        raise SqlError(f"Cannot insert into HEADER columns: {', '.join(headers)}")
    if len(names) != len(node.values):
        raise SqlError(f"Expected a value for each column. Expected Columns: [{', '.join(names)}]. Got "
                       f"[{', '.join(str(v[1]) for v in node.values)}]")
    types = {n: t for n, t, _ in source.columns}
    system = {"ROWTIME": ("BIGINT",), **({"WINDOWSTART": ("BIGINT",), "WINDOWEND": ("BIGINT",)}
                                         if source.window else {})}
    compiler = Compiler({**types, **system})
    row: dict[str, Any] = {}
    for name, expr in zip(names, node.values, strict=True):
        if name not in types and name not in system:
            raise SqlError(f"Column name {name} does not exist.")
        row[name] = formats.coerce(compiler.compile(expr)({}), types.get(name, ("BIGINT",)))
    done: dict[str, Any] = {}
    try:
        key, value = source.encode_key(row, source.key_columns), source.encode_value(row, source.value_columns)
        if source.window is not None and key is not None:  # the window's bounds go into the key
            start = int(row.get("WINDOWSTART") or 0)
            key = source.window.key(key, start, int(row.get("WINDOWEND") or start + source.window.size))
    except formats.SerdeError as e:
        raise SqlError(f"Failed to insert values into '{source.name}'. {e}") from None
    engine.producer.produce(source.topic, key=key, value=value,
                          timestamp=row.get("ROWTIME") or 0, on_delivery=lambda err, msg: done.update(err=err))
    engine.producer.flush(30)
    if done.get("err") is not None or "err" not in done:
        from brook.sql.engine import StatementError

        raise StatementError(50000, f"Failed to insert values into '{source.name}'. "
                             f"{done.get('err') or 'timed out'}")
