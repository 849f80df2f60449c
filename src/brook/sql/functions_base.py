"""What every scalar-function module shares: the registry entry, SQL type constants, ksqlDB's categories and
its NULL rule (a NULL argument gives NULL unless the function documents otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

STRING, INTEGER, BIGINT, DOUBLE, BOOLEAN = ("STRING",), ("INTEGER",), ("BIGINT",), ("DOUBLE",), ("BOOLEAN",)
BYTES, DATE, TIME, TIMESTAMP = ("BYTES",), ("DATE",), ("TIME",), ("TIMESTAMP",)
NUMERIC = ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE")

# ksqlDB's FunctionCategory names, as SHOW FUNCTIONS prints them
MATHEMATICAL, STRING_CAT, REGEX, JSON = "MATHEMATICAL", "STRING", "REGULAR EXPRESSION", "JSON"
DATE_TIME, ARRAY, MAP, URL, OTHER = "DATE / TIME", "ARRAY", "MAP", "URL", "OTHER"
TABLE, LAMBDA, CONVERSIONS, CONDITIONAL = "TABLE", "LAMBDA", "CONVERSIONS", "CONDITIONAL"


class Fn(NamedTuple):
    impl: Callable
    # a type tuple, or a function of the argument types (None for an untyped NULL) giving one
    result: Any
    arity: tuple[int, int]
    category: str
    # the kinds the leading arguments must have ("NUM" any numeric, "ARRAY", "MAP", a type name, None: any)
    kinds: tuple[str | None, ...] = ()
    # the implementation takes the argument types first (TO_JSON_STRING writes a DATE unlike an INT)
    typed: bool = False


def nulls(fn: Callable) -> Callable:
    def wrapped(*args: Any) -> Any:
        return None if any(a is None for a in args) else fn(*args)
    return wrapped


# the functions ksqlDB declares (@UdfDescription's name) otherwise than upper-cased: its messages name them so
# (dateadd.json "throws on incorrect type": `Function 'dateadd' does not accept parameters ...`)
_DECLARED = {n.upper(): n for n in (
    "array_concat array_distinct array_except array_intersect array_max array_min array_remove array_sort "
    "array_union bigint_from_bytes double_from_bytes int_from_bytes convert_tz dateadd datesub datetostring "
    "format_date format_time format_timestamp from_days from_unixtime parse_date parse_time parse_timestamp "
    "stringtodate stringtotimestamp timeadd timesub timestampadd timestampsub timestamptostring unix_date "
    "unix_timestamp geo_distance extractjsonfield filter reduce transform slice map_keys map_union map_values Abs "
    "acos asin atan atan2 cbrt Ceil cos cosh cot degrees exp Floor greatest least ln log pi power radians random "
    "Round sign sin sinh sqrt tan tanh trunc Chr concat concat_ws elt encode field from_bytes initcap instr lcase "
    "LPad len md5 mask mask_keep_left mask_keep_right mask_left mask_right RPad regexp_extract regexp_extract_all "
    "regexp_replace regexp_split_to_array replace split split_to_map substring to_bytes trim ucase "
    "url_decode_param url_encode_param url_extract_fragment url_extract_host url_extract_parameter "
    "url_extract_path url_extract_port url_extract_protocol url_extract_query explode").split()}


def declared(name: str) -> str:
    """The function's name as ksqlDB declares it (and repeats it in messages)."""
    return _DECLARED.get(name, name)


def reject(name: str, arg_types: list) -> Exception:
    """ksqlDB's error for arguments no signature of the function takes."""
    from brook.sql.expressions import SqlError
    from brook.sql.parser import type_str

    types = ", ".join(type_str(t) if t else "null" for t in arg_types)
    return SqlError(f"Function '{declared(name)}' does not accept parameters ({types}).")


def first(t: list) -> tuple | None:
    return t[0] if t else None


def same(t: list) -> tuple:
    return t[0] or DOUBLE


def element(t: tuple | None) -> tuple | None:
    return t[1] if t and t[0] == "ARRAY" else None


def widest(types: list) -> tuple | None:
    """The common numeric type of arguments (INTEGER < BIGINT < DECIMAL < DOUBLE), else the first known type."""
    known = [t for t in types if t]
    if known and all(t[0] in NUMERIC for t in known):
        return max(known, key=lambda t: NUMERIC.index(t[0]))
    return known[0] if known else None
