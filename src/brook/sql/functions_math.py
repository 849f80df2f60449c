"""ksqlDB's numeric functions (Java's double semantics: NaN and +-Infinity instead of errors), the null-handling
functions, GEO_DISTANCE and AS_VALUE.  Expected values follow ksqlDB's functional tests
(query-validation-tests/math.json, geodistance.json, greatest.json, least.json)."""

from __future__ import annotations

import decimal
import math
import random
from typing import Any

from brook.sql.casts import WIDE, common_type
from brook.sql.functions_base import (
    BIGINT,
    CONDITIONAL,
    DOUBLE,
    INTEGER,
    MATHEMATICAL,
    NUMERIC,
    OTHER,
    Fn,
    declared,
    first,
    nulls,
    reject,
    same,
    widest,
)

INF = math.inf


def _java(fn: Any) -> Any:
    """A math function with Java's results where Python raises: NaN outside the domain, Infinity on overflow."""
    def wrapped(*args: Any) -> float:
        try:
            return float(fn(*[float(a) for a in args]))
        except OverflowError:
            return INF
        except ValueError:
            return math.nan
    return nulls(wrapped)


def _ln(x: float) -> float:
    # math.json "ln": ln(0) is -Infinity, ln(<0) NaN
    return -INF if x == 0 else math.nan if x < 0 else math.log(x)


def _log(base_or_value: float, value: float | None = None) -> float:
    # math.json "log-base-10" and "log-custom-base"; the docs: NaN for a base <= 0 or 1 and a negative value.
    # The one-argument form is the natural logarithm in ksqlDB (log-base-10 expects LOG(13) = 2.5649...), whatever
    # its docs say
    if value is None:
        return _ln(base_or_value)
    base = base_or_value
    if value < 0 or base <= 0 or base == 1:
        return math.nan
    return -INF if value == 0 else math.log(value) / math.log(base)


def _power(x: float, y: float) -> float:
    try:
        return x ** y
    except ZeroDivisionError:
        return INF
    except OverflowError:
        return INF


def _cot(x: float) -> float:
    # math.json "cot edge cases": cot(0) is Infinity with the input's sign
    t = math.tan(x)
    return math.copysign(INF, x) if t == 0 else 1 / t


def _cbrt(x: float) -> float:
    r = round(abs(x) ** (1 / 3))
    root = float(r) if r ** 3 == abs(x) else abs(x) ** (1 / 3)  # math.json "cbrt": cbrt(8) is exactly 2.0
    return math.copysign(root, x)


def _scaled(x: Any, digits: int, mode: str) -> Any:
    # a DOUBLE goes through BigDecimal.valueOf(double): the shortest decimal string of the double, then setScale
    exact = isinstance(x, decimal.Decimal)
    d = (x if exact else decimal.Decimal(repr(float(x)))).quantize(decimal.Decimal(1).scaleb(-digits), rounding=mode,
                                                                   context=WIDE)
    return d if exact else float(d) + 0.0  # BigDecimal has no negative zero (math.json "round": ROUND(-1.5, -1))


def _round(x: Any, digits: int | None = None) -> Any:
    if digits is None:
        if isinstance(x, int):
            return x
        if isinstance(x, decimal.Decimal):  # Round's BigDecimal overload: half up above zero, half down below
            return _scaled(x, 0, decimal.ROUND_HALF_UP if x > 0 else decimal.ROUND_HALF_DOWN)
        return math.floor(x + 0.5)  # Java's Math.round: halves go up (towards positive infinity)
    # ksqlDB's Round: half up above zero, half down below (ROUND(-1.5, 0) is -1.0)
    return _scaled(x, digits, decimal.ROUND_HALF_UP if x > 0 else decimal.ROUND_HALF_DOWN)


def _trunc(x: Any, digits: int | None = None) -> Any:
    if digits is None:
        return x if isinstance(x, int) else int(x)
    return _scaled(x, digits, decimal.ROUND_DOWN)


def _round_type(t: list) -> tuple:
    # ROUND(INT) INT, ROUND(BIGINT) BIGINT, ROUND(DOUBLE) BIGINT, ROUND(DECIMAL(p, s)) DECIMAL(p, 0);
    # with a scale: DOUBLE, or DECIMAL for a DECIMAL
    x: tuple = t[0] or DOUBLE
    if x[0] == "DECIMAL":
        return ("DECIMAL", x[1], 0) if len(t) == 1 else x
    if len(t) == 2:
        return DOUBLE
    return BIGINT if x == DOUBLE else x


def _ceil_floor(fn: Any) -> Any:
    return nulls(lambda x: x if isinstance(x, int) else fn(x) if isinstance(x, decimal.Decimal) else float(fn(x)))


def _geo_distance(lat1: float, lon1: float, lat2: float, lon2: float, unit: str | None = "KM") -> float | None:
    if None in (lat1, lon1, lat2, lon2):
        return None
    # geodistance.json "geo distance with radius": a NULL unit is kilometers
    radius = {"KM": 6371.0, "KILOMETERS": 6371.0, "MILES": 3959.0, "MI": 3959.0}.get((unit or "KM").upper())
    if radius is None:
        raise ValueError("GeoDistance function units parameter must be one of miles, mi, kilometers or km.")
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


TEMPORAL = ("DATE", "TIME", "TIMESTAMP")


def _extreme_type(types: list) -> tuple | None:
    temporal = [t for t in types if t and t[0] in TEMPORAL]
    if temporal:
        return temporal[0]
    result = widest(types)
    # DECIMALs of several scales widen as DecimalUtil.widen does (least.json "test decimal widening")
    return common_type(types) if result and result[0] == "DECIMAL" else result


_EXTREMES = ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE", "STRING", "BYTES") + TEMPORAL  # GREATEST's overloads


def _fits_extreme(kind: str, overload: str) -> bool:
    if kind in NUMERIC and overload in NUMERIC:
        return NUMERIC.index(kind) <= NUMERIC.index(overload)
    return kind == overload or (kind == "STRING" and overload in TEMPORAL)


def _checked_extreme(name: str) -> Any:
    """GREATEST and LEAST resolve as ksqlDB's UdfIndex does over their one-type variadic overloads: arguments of
    one type take that overload, else the single overload they all widen to; several is ambiguous (greatest.json
    "test implicit casting to long": INTEGER and BIGINT fit BIGINT, DECIMAL and DOUBLE)."""
    def result(types: list) -> tuple | None:
        kinds = {t[0] for t in types if t}
        if len(kinds) != 1:
            fits = [o for o in _EXTREMES if all(_fits_extreme(k, o) for k in kinds)]
            if not fits:
                raise reject(name, types)
            if len(fits) > 1:
                from brook.sql.expressions import SqlError
                from brook.sql.parser import type_str

                shown = ", ".join(type_str(t) if t else "null" for t in types)
                raise SqlError(f"Function '{declared(name)}' cannot be resolved due to ambiguous method parameters "
                               f"({shown}).")
        return _extreme_type(types)
    return result


def _extreme(pick: Any) -> Any:
    # greatest.json / least.json: NULLs are skipped, all-NULL gives NULL; "test greatest with dates": a string
    # among dates, times or timestamps is read as one
    def fn(types: list, *args: Any) -> Any:
        target = _extreme_type(types)
        if target and target[0] in TEMPORAL:
            from brook.sql.functions import cast

            args = tuple(cast(a, target) if t == ("STRING",) else a for a, t in zip(args, types, strict=True))
        return pick((x for x in args if x is not None), default=None)
    return fn


def _abs(x: Any) -> Any:
    return x.copy_abs() if isinstance(x, decimal.Decimal) else abs(x)  # abs() would round a Decimal to 28 digits


def _sign(x: Any) -> int:
    return (x > 0) - (x < 0)


N = ("NUM",)
N2 = ("NUM", "NUM")
FUNCTIONS: dict[str, Fn] = {
    "ABS": Fn(nulls(_abs), same, (1, 1), MATHEMATICAL, N),
    "ACOS": Fn(_java(math.acos), DOUBLE, (1, 1), MATHEMATICAL, N),
    "ASIN": Fn(_java(math.asin), DOUBLE, (1, 1), MATHEMATICAL, N),
    "ATAN": Fn(_java(math.atan), DOUBLE, (1, 1), MATHEMATICAL, N),
    "ATAN2": Fn(_java(math.atan2), DOUBLE, (2, 2), MATHEMATICAL, N2),
    "CBRT": Fn(_java(_cbrt), DOUBLE, (1, 1), MATHEMATICAL, N),
    "CEIL": Fn(_ceil_floor(math.ceil), same, (1, 1), MATHEMATICAL, N),
    "COS": Fn(_java(math.cos), DOUBLE, (1, 1), MATHEMATICAL, N),
    "COSH": Fn(_java(math.cosh), DOUBLE, (1, 1), MATHEMATICAL, N),
    "COT": Fn(_java(_cot), DOUBLE, (1, 1), MATHEMATICAL, N),
    "DEGREES": Fn(_java(math.degrees), DOUBLE, (1, 1), MATHEMATICAL, N),
    "EXP": Fn(_java(math.exp), DOUBLE, (1, 1), MATHEMATICAL, N),
    "FLOOR": Fn(_ceil_floor(math.floor), same, (1, 1), MATHEMATICAL, N),
    "GREATEST": Fn(_extreme(max), _checked_extreme("GREATEST"), (1, 99), MATHEMATICAL, typed=True),
    "LEAST": Fn(_extreme(min), _checked_extreme("LEAST"), (1, 99), MATHEMATICAL, typed=True),
    "LN": Fn(_java(_ln), DOUBLE, (1, 1), MATHEMATICAL, N),
    "LOG": Fn(_java(_log), DOUBLE, (1, 2), MATHEMATICAL, N2),
    "PI": Fn(lambda: math.pi, DOUBLE, (0, 0), MATHEMATICAL),
    "POWER": Fn(_java(_power), DOUBLE, (2, 2), MATHEMATICAL, N2),
    "RADIANS": Fn(_java(math.radians), DOUBLE, (1, 1), MATHEMATICAL, N),
    "RANDOM": Fn(random.random, DOUBLE, (0, 0), MATHEMATICAL),
    "ROUND": Fn(nulls(_round), _round_type, (1, 2), MATHEMATICAL, ("NUM", "INTEGER")),
    "SIGN": Fn(nulls(_sign), INTEGER, (1, 1), MATHEMATICAL, N),
    "SIN": Fn(_java(math.sin), DOUBLE, (1, 1), MATHEMATICAL, N),
    "SINH": Fn(_java(math.sinh), DOUBLE, (1, 1), MATHEMATICAL, N),
    "SQRT": Fn(_java(math.sqrt), DOUBLE, (1, 1), MATHEMATICAL, N),
    "TAN": Fn(_java(math.tan), DOUBLE, (1, 1), MATHEMATICAL, N),
    "TANH": Fn(_java(math.tanh), DOUBLE, (1, 1), MATHEMATICAL, N),
    "TRUNC": Fn(nulls(_trunc), _round_type, (1, 2), MATHEMATICAL, ("NUM", "INTEGER")),
    "GEO_DISTANCE": Fn(_geo_distance, DOUBLE, (4, 5), OTHER, ("NUM", "NUM", "NUM", "NUM", "STRING")),
    # elements.json "copy simple key column into value": the projection keeps a call out of the key
    "AS_VALUE": Fn(lambda v: v, first, (1, 1), OTHER),
    "COALESCE": Fn(lambda *a: next((x for x in a if x is not None), None), widest, (1, 99), CONDITIONAL),
    "IFNULL": Fn(lambda a, b: b if a is None else a, lambda t: t[0] or t[1], (2, 2), CONDITIONAL),
    "NULLIF": Fn(lambda a, b: None if a == b else a, first, (2, 2), CONDITIONAL),
}
