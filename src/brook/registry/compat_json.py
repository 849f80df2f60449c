"""JSON Schema compatibility after Confluent's documented rules (JsonSchemaDiff's change types): can a consumer
with the `reader` schema read every document the `writer` schema accepted?  Returns the incompatibilities found,
each as (Confluent's change type, JSON pointer)."""

from __future__ import annotations

from typing import Any

Issue = tuple[str, str]

# (keyword, change type when the reader introduces it, change type when the reader narrows it, narrower(r, w))
_BOUNDS = (
    ("maxLength", "MAX_LENGTH_ADDED", "MAX_LENGTH_DECREASED", lambda r, w: r < w),
    ("minLength", "MIN_LENGTH_ADDED", "MIN_LENGTH_INCREASED", lambda r, w: r > w),
    ("maximum", "MAXIMUM_ADDED", "MAXIMUM_DECREASED", lambda r, w: r < w),
    ("minimum", "MINIMUM_ADDED", "MINIMUM_INCREASED", lambda r, w: r > w),
    ("exclusiveMaximum", "EXCLUSIVE_MAXIMUM_ADDED", "EXCLUSIVE_MAXIMUM_DECREASED", lambda r, w: r < w),
    ("exclusiveMinimum", "EXCLUSIVE_MINIMUM_ADDED", "EXCLUSIVE_MINIMUM_INCREASED", lambda r, w: r > w),
    ("maxItems", "MAX_ITEMS_ADDED", "MAX_ITEMS_DECREASED", lambda r, w: r < w),
    ("minItems", "MIN_ITEMS_ADDED", "MIN_ITEMS_INCREASED", lambda r, w: r > w),
    ("maxProperties", "MAX_PROPERTIES_ADDED", "MAX_PROPERTIES_DECREASED", lambda r, w: r < w),
    ("minProperties", "MIN_PROPERTIES_ADDED", "MIN_PROPERTIES_INCREASED", lambda r, w: r > w),
    ("multipleOf", "MULTIPLE_OF_ADDED", "MULTIPLE_OF_CHANGED", lambda r, w: w % r != 0 if r else True),
    ("pattern", "PATTERN_ADDED", "PATTERN_CHANGED", lambda r, w: r != w),
)
_ALL_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


def _types(s: dict) -> set[str] | None:
    t = s.get("type")
    if t is None:
        return None
    return {t} if isinstance(t, str) else set(t)


def _open(s: dict) -> bool:
    """An open content model: any property not listed is accepted with any value."""
    return s.get("additionalProperties", True) is not False and not s.get("patternProperties") \
        and s.get("additionalProperties", True) in (True, {})


def _extra_schema(s: dict, name: str) -> Any:
    """The schema a property absent from `properties` gets (patternProperties are not matched here)."""
    return s.get("additionalProperties", True)


def check(reader: Any, writer: Any, path: str = "#") -> list[Issue]:
    if reader is True or reader == {} or writer is False:
        return []
    if reader is False:
        return [("SCHEMA_REMOVED" if writer is not None else "SCHEMA_ADDED", path)]
    if writer is True or writer == {}:
        writer = {}
    issues: list[Issue] = []
    if reader.get("$ref") != writer.get("$ref"):
        issues.append(("TYPE_CHANGED", path))
    for kw in ("allOf", "anyOf", "oneOf"):
        if kw in reader or kw in writer:
            issues += _combined(kw, reader.get(kw), writer.get(kw), f"{path}/{kw}")
    if "not" in reader and reader.get("not") != writer.get("not"):
        issues.append(("NOT_TYPE_EXTENDED" if "not" in writer else "NOT_TYPE_EXTENDED", path))
    rt, wt = _types(reader), _types(writer)
    if rt is not None:
        wider_w = set(_ALL_TYPES) if wt is None else set(wt) | ({"integer"} if "number" in wt else set())
        accepted = set(rt) | ({"integer"} if "number" in rt else set())
        if not wider_w <= accepted:
            issues.append(("TYPE_NARROWED" if set(rt) & wider_w else "TYPE_CHANGED", path))
            return issues
    if "enum" in reader:
        if "enum" not in writer:
            issues.append(("ENUM_ARRAY_NARROWED", path))
        elif any(v not in reader["enum"] for v in writer["enum"]):
            issues.append(("ENUM_ARRAY_NARROWED", path))
    if "const" in reader and reader["const"] != writer.get("const", object()):
        issues.append(("ENUM_ARRAY_NARROWED", path))
    for kw, added, narrowed, narrower in _BOUNDS:
        if kw not in reader or isinstance(reader[kw], bool):
            continue
        if kw not in writer:
            issues.append((added, path))
        elif narrower(reader[kw], writer[kw]):
            issues.append((narrowed, path))
    if reader.get("uniqueItems") and not writer.get("uniqueItems"):
        issues.append(("UNIQUE_ITEMS_ADDED", path))
    issues += _object(reader, writer, path)
    if "items" in reader or "items" in writer:
        issues += _items(reader.get("items", True), writer.get("items", True), f"{path}/items")
    return issues


def _object(reader: dict, writer: dict, path: str) -> list[Issue]:
    rp, wp = reader.get("properties", {}), writer.get("properties", {})
    issues: list[Issue] = []
    for name in rp.keys() & wp.keys():
        issues += check(rp[name], wp[name], f"{path}/properties/{name}")
    for name in wp.keys() - rp.keys():  # the reader no longer lists it
        extra = _extra_schema(reader, name)
        if extra is False:
            issues.append(("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", f"{path}/properties/{name}"))
        elif extra not in (True, {}) and check(extra, wp[name]):
            issues.append(("PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                           f"{path}/properties/{name}"))
    for name in rp.keys() - wp.keys():  # the reader lists a new one
        if _open(writer):
            if rp[name] not in (True, {}):
                issues.append(("PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", f"{path}/properties/{name}"))
        else:
            extra = _extra_schema(writer, name)
            if extra is not False and check(rp[name], extra):
                issues.append(("PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                               f"{path}/properties/{name}"))
            if name in reader.get("required", []) and "default" not in rp[name]:
                issues.append(("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL", f"{path}/properties/{name}"))
    for name in set(reader.get("required", [])) - set(writer.get("required", [])):
        if name in wp:
            issues.append(("REQUIRED_ATTRIBUTE_ADDED", f"{path}/required/{name}"))
    ra, wa = reader.get("additionalProperties", True), writer.get("additionalProperties", True)
    if ra is False and wa is not False:
        issues.append(("ADDITIONAL_PROPERTIES_REMOVED", f"{path}/additionalProperties"))
    elif isinstance(ra, dict) and ra and wa is not False:
        if wa in (True, {}):
            issues.append(("ADDITIONAL_PROPERTIES_NARROWED", f"{path}/additionalProperties"))
        else:
            issues += check(ra, wa, f"{path}/additionalProperties")
    return issues


def _items(reader: Any, writer: Any, path: str) -> list[Issue]:
    if isinstance(reader, list) or isinstance(writer, list):  # tuples: position by position
        r = reader if isinstance(reader, list) else []
        w = writer if isinstance(writer, list) else []
        if len(r) > len(w):
            return [("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL" if w else "TYPE_CHANGED", path)]
        out: list[Issue] = []
        for i, (a, b) in enumerate(zip(r, w, strict=False)):
            out += check(a, b, f"{path}/{i}")
        return out
    return check(reader, writer, path)


def _combined(kw: str, reader: list | None, writer: list | None, path: str) -> list[Issue]:
    if reader is None or writer is None:
        return [("COMBINED_TYPE_CHANGED", path)] if reader is not None else []
    if kw == "allOf":
        if len(reader) > len(writer):
            return [("PRODUCT_TYPE_EXTENDED", path)]
        return [] if all(any(not check(r, w) for w in writer) for r in reader) else [("COMBINED_TYPE_CHANGED", path)]
    if len(reader) < len(writer) and kw == "oneOf":
        return [("SUM_TYPE_NARROWED", path)]
    # every writer alternative must be readable by some reader alternative
    if all(any(not check(r, w) for r in reader) for w in writer):
        return []
    return [("SUM_TYPE_NARROWED", path)]
