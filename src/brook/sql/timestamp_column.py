"""A source's WITH (TIMESTAMP=..., TIMESTAMP_FORMAT=...): the column whose value is a record's time, read and
checked as ksqlDB does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brook.sql.expressions import SqlError

if TYPE_CHECKING:
    from brook.sql.queries import Source


def time_format(props: dict) -> str | None:
    fmt = props.get("TIMESTAMP_FORMAT")
    return None if fmt is None else str(fmt)


def check(source: Source) -> None:
    """ksqlDB's TimestampExtractionPolicyFactory: the column exists; a STRING one needs TIMESTAMP_FORMAT, which
    only a STRING one takes; otherwise BIGINT or TIMESTAMP."""
    if source.timestamp is None:  # TIMESTAMP_FORMAT alone is not looked at
        return
    types = {n: t for n, t, _ in source.columns}
    kind = types.get(source.timestamp)
    if kind is None:
        raise SqlError(f"The TIMESTAMP column set in the WITH clause does not exist in the schema: "
                       f"'{source.timestamp}'")
    if kind[0] == "STRING":
        if source.timestamp_format is None:
            raise SqlError("A String timestamp field has been specified without also specifying the "
                           "timestamp_format")
        return
    if source.timestamp_format is not None:
        raise SqlError("'TIMESTAMP_FORMAT' set in the WITH clause can only be used when the timestamp column is "
                       "of type STRING.")
    if kind[0] not in ("BIGINT", "TIMESTAMP"):
        raise SqlError(f"Timestamp column, {source.timestamp}, should be LONG(INT64), TIMESTAMP, or a String with a "
                       "timestamp_format specified.")


def column(props: dict) -> str | None:
    """WITH (TIMESTAMP='col'): the column whose value is a record's time (a name is upper-cased unless quoted)."""
    name = props.get("TIMESTAMP")
    if name is None:
        return None
    text = str(name)
    return text[1:-1] if text[:1] in "`\"" and len(text) > 1 else text.upper()
