"""ksqlDB's JSON functions: JSON text in STRING columns, written compactly as Jackson writes it.  Expected values
follow ksqlDB's functional tests (query-validation-tests/json_concat.json, json_records.json, json_items.json,
to_json_string.json, is_json_string.json, extract-json-field.json)."""

from __future__ import annotations

import base64
import json
from typing import Any

from brook.sql import jsonvalues
from brook.sql.functions_base import BOOLEAN, INTEGER, JSON, STRING, Fn, nulls

_MISSING = object()


def dumps(value: Any) -> str:
    return jsonvalues.dumps(value, ensure_ascii=False)


def _load(text: str | None) -> Any:
    if text is None:
        return _MISSING
    try:
        return json.loads(text)
    except ValueError:
        return _MISSING


def _extract_json_field(text: str, path: str) -> str | None:
    # extract-json-field.json "concat two extracted fields": text after the first JSON value is ignored (Jackson)
    try:
        value: Any = json.JSONDecoder().raw_decode(text.lstrip())[0]
    except ValueError:
        return None
    for part in path.lstrip("$").replace("[", ".").replace("]", "").split("."):
        if not part:
            continue
        if isinstance(value, dict):
            value = value.get(part.strip("'\""))
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value if value is None or isinstance(value, str) else dumps(value)


def _is_json_string(text: str | None) -> bool:
    return text is not None and text.strip() != "" and _load(text) is not _MISSING


def _array_length(text: str | None) -> int | None:
    value = _load(text)
    return len(value) if isinstance(value, list) else None


def _array_contains(text: str | None, wanted: Any) -> bool:
    # the docs: false unless the first argument holds a JSON array; a number matches a number of any width
    value = _load(text)
    if not isinstance(value, list):
        return False
    return any(v == wanted and isinstance(v, bool) == isinstance(wanted, bool) for v in value)


def _concat(*texts: str | None) -> str | None:
    # PostgreSQL's || on jsonb: objects merge their top-level keys, anything else concatenates as arrays
    values = [_load(t) for t in texts]
    if any(v is _MISSING for v in values):
        return None
    if all(isinstance(v, dict) for v in values):
        merged: dict = {}
        for v in values:
            merged.update(v)
        return dumps(merged)
    out: list = []
    for v in values:
        out.extend(v if isinstance(v, list) else [v])
    return dumps(out)


def _keys(text: str | None) -> list | None:
    value = _load(text)
    return list(value) if isinstance(value, dict) else None


def _records(text: str | None) -> dict | None:
    value = _load(text)
    return {k: dumps(v) for k, v in value.items()} if isinstance(value, dict) else None


def _items(text: str | None) -> list | None:
    value = _load(text)
    return [dumps(v) for v in value] if isinstance(value, list) else None


def to_json(value: Any, t: tuple | None) -> Any:
    """A value of SQL type `t` as the JSON value ksqlDB writes for it (dates and times as ISO text)."""
    from brook.sql.functions_datetime import _at, iso_date

    if value is None or t is None:
        return value
    kind = t[0]
    if kind == "TIMESTAMP":
        return _at(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value % 1000:03d}"
    if kind == "DATE":
        return iso_date(value)
    if kind == "TIME":
        text = _at(value).strftime("%H:%M:%S" if value % 60_000 else "%H:%M")
        return text + (f".{value % 1000:03d}" if value % 1000 else "")
    if kind == "BYTES":
        return base64.b64encode(value).decode()
    if kind == "ARRAY":
        return [to_json(v, t[1]) for v in value]
    if kind == "MAP":
        return {k: to_json(v, t[2]) for k, v in value.items()}
    if kind == "STRUCT":
        return {name: to_json(value.get(name), ft) for name, ft in t[1]}
    return value


def _to_json_string(types: list, value: Any) -> str:
    # to_json_string.json: NULL is the text 'null'
    return dumps(to_json(value, types[0]))


FUNCTIONS: dict[str, Fn] = {
    "EXTRACTJSONFIELD": Fn(nulls(_extract_json_field), STRING, (2, 2), JSON, ("STRING", "STRING")),
    "IS_JSON_STRING": Fn(_is_json_string, BOOLEAN, (1, 1), JSON, ("STRING",)),
    "JSON_ARRAY_CONTAINS": Fn(_array_contains, BOOLEAN, (2, 2), JSON, ("STRING",)),
    "JSON_ARRAY_LENGTH": Fn(_array_length, INTEGER, (1, 1), JSON, ("STRING",)),
    "JSON_CONCAT": Fn(_concat, STRING, (1, 99), JSON, ("STRING",) * 99),
    "JSON_ITEMS": Fn(_items, ("ARRAY", STRING), (1, 1), JSON, ("STRING",)),
    "JSON_KEYS": Fn(_keys, ("ARRAY", STRING), (1, 1), JSON, ("STRING",)),
    "JSON_RECORDS": Fn(_records, ("MAP", STRING, STRING), (1, 1), JSON, ("STRING",)),
    "TO_JSON_STRING": Fn(_to_json_string, STRING, (1, 1), JSON, typed=True),
}
