"""ALTER STREAM | TABLE name ADD [COLUMN] column type [, ...]: new value columns for a stream or table that a
CREATE made (ksqlDB's AlterSourceFactory and DdlCommandExec, with their messages). Recorded in the command topic
like the other statements, so that a restarted server has the columns too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brook.sql.expressions import SqlError
from brook.sql.parser import Alter, Statement

if TYPE_CHECKING:
    from brook.sql.engine import Engine


def alter(engine: Engine, stmt: Statement, node: Alter, record: bool) -> dict:
    kind = node.kind.lower()
    source = engine.sources.get(node.name)
    if source is not None and source.is_source:
        raise SqlError(f"Cannot alter {kind} '{node.name}': ALTER operations are not supported on source {kind}s.")
    if source is None:
        raise SqlError(f"Source {node.name} does not exist.")
    if source.kind != node.kind:
        raise SqlError(f"Incompatible data source type is {source.kind}, but statement was ALTER {node.kind}")
    if source.cas_target:
        raise SqlError("ALTER command is not supported for CREATE ... AS statements.")
    names = {n for n, _, _ in source.columns}
    for name, _ in node.columns:
        if name in names:
            raise SqlError(f"Cannot add column `{name}` to schema. A column with the same name already exists.")
        names.add(name)
    command_id = f"{kind}/`{node.name}`/alter"
    offset = engine.sequence
    if record:
        offset = engine._record(command_id, stmt, {})
    source.columns = source.columns + [(name, t, None) for name, t in node.columns]
    source.statement = stmt.text
    engine._attach_serdes(source, False, False)  # a schema-registry format reads and writes the new columns
    return engine._status(stmt, command_id, offset, f"{node.kind.capitalize()} {node.name} altered.")
