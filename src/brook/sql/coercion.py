"""ksqlDB's coercion of a list the user writes, as `x IN (a, b, ...)` takes it (CoercionUtil.coerceUserList): the
first expression's type leads, each next one widens it (numbers, STRUCT fields merged, a text literal read as the
number or boolean it spells) or is refused with ksqlDB's message; every member is then converted to that common
type before the members are compared (in.json)."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

from brook.sql import casts
from brook.sql.parser import type_str

NUMBERS = ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE")
_TO_TEXT = ("BOOLEAN", "INTEGER", "BIGINT", "DECIMAL", "DOUBLE", "TIMESTAMP", "TIME", "DATE")
_FROM_TEXT = ("TIMESTAMP", "TIME", "DATE", "BYTES")


def arithmetic_type(a: tuple | None, b: tuple | None, op: str = "+") -> tuple:
    """The type of `a op b` over numbers: the wider kind; two DECIMALs (or a DECIMAL and an integer) as ksqlDB's
    SqlDecimal arithmetic gives it."""
    order = {t: i for i, t in enumerate(NUMBERS)}
    ta, tb = (a or ("INTEGER",))[0], (b or ("INTEGER",))[0]
    kind = max(ta, tb, key=lambda t: order.get(t, 3))
    if kind == "DECIMAL":
        return _decimal_result(_as_decimal(a), _as_decimal(b), op)
    return (kind,)


def _as_decimal(t: tuple | None) -> tuple[int, int]:
    """A DECIMAL's (precision, scale); an INT or BIGINT as the DECIMAL ksqlDB widens it to."""
    if t and t[0] == "DECIMAL" and len(t) == 3:
        return t[1], t[2]
    return (19, 0) if t and t[0] == "BIGINT" else (10, 0)


def _decimal_result(a: tuple[int, int], b: tuple[int, int], op: str) -> tuple:
    """The DECIMAL type of an operation on two, as ksqlDB's SqlDecimal.add / multiply / divide / modulus."""
    (p1, s1), (p2, s2) = a, b
    if op == "*":
        return ("DECIMAL", p1 + p2 + 1, s1 + s2)
    if op == "/":
        scale = max(6, s1 + p2 + 1)
        return ("DECIMAL", p1 - s1 + s2 + scale, scale)
    if op == "%":
        return ("DECIMAL", min(p1 - s1, p2 - s2) + max(s1, s2), max(s1, s2))
    return ("DECIMAL", max(s1, s2) + max(p1 - s1, p2 - s2) + 1, max(s1, s2))


class CoercionError(Exception):
    """A member no common type takes: ksqlDB's message, which the caller names the step of."""


def _decimal_of(t: tuple) -> tuple[int, int]:
    if t[0] == "DECIMAL":
        return t[1], t[2]
    return (19, 0) if t[0] == "BIGINT" else (10, 0)


def widen(a: tuple, b: tuple) -> tuple:
    """DecimalUtil.widen: room for either's integer digits and the larger scale."""
    (p1, s1), (p2, s2) = _decimal_of(a), _decimal_of(b)
    scale = max(s1, s2)
    return ("DECIMAL", max(p1 - s1, p2 - s2) + scale, scale)


def can_coerce(src: tuple, dst: tuple, lax: bool) -> tuple | None:
    """DefaultSqlValueCoercer.canCoerce: the type `src` becomes as `dst` (LAX for literals: text both ways)."""
    s, d = src[0], dst[0]
    if s in NUMBERS and d in NUMBERS:
        if NUMBERS.index(s) > NUMBERS.index(d):
            return None
        return widen(src, dst) if d == "DECIMAL" else dst
    if s == d == "ARRAY":
        inner = can_coerce(src[1], dst[1], lax)
        return ("ARRAY", inner) if inner else None
    if s == d == "MAP":
        k, v = can_coerce(src[1], dst[1], lax), can_coerce(src[2], dst[2], lax)
        return ("MAP", k, v) if k and v else None
    if s == d == "STRUCT":
        to, frm = dict(dst[1]), dict(src[1])
        fields = []
        for name in dict.fromkeys([n for n, _ in src[1]] + [n for n, _ in dst[1]]):
            if name in frm and name in to:
                common = can_coerce(frm[name], to[name], lax)
                if common is None:
                    return None
                fields.append((name, common))
            else:
                fields.append((name, frm.get(name) or to[name]))
        return ("STRUCT", fields)
    if s == d or (s == "STRING" and d in _FROM_TEXT):
        return dst
    if lax and ((d == "STRING" and s in _TO_TEXT) or (s == "STRING" and d in NUMBERS + ("BOOLEAN",))):
        return dst
    return None


def parse_boolean(text: str) -> bool | None:
    """SqlBooleans.parseBooleanExact: a case-insensitive prefix of true/yes or false/no."""
    t = text.strip().lower()
    if t and ("true".startswith(t) or "yes".startswith(t)):
        return True
    if t and ("false".startswith(t) or "no".startswith(t)):
        return False
    return None


def _text_number_type(text: str, target: tuple) -> tuple:
    """The numeric type a text literal widens `target` to (CoercionUtil's getStringNumericType)."""
    try:
        d = decimal.Decimal(text.strip())
        if not d.is_finite():
            raise decimal.InvalidOperation
    except decimal.InvalidOperation:
        raise CoercionError(f'invalid input syntax for type {target[0]}: "{text}".') from None
    if not any(c in text for c in ".eE") and d == d.to_integral_value():
        source: tuple = ("INTEGER",) if -2**31 < d < 2**31 - 1 else ("BIGINT",) if -2**63 < d < 2**63 - 1 else ()
    else:
        source = ()
    if not source:
        source = casts.decimal_type(d)
    if "DOUBLE" in (source[0], target[0]):
        return ("DOUBLE",)
    if "DECIMAL" in (source[0], target[0]):
        return widen(source, target)
    return target if NUMBERS.index(source[0]) <= NUMBERS.index(target[0]) else source


class UserList:
    """Resolves the common type of expressions (`type_of` gives each one's type, `text` prints one)."""

    def __init__(self, type_of: Callable[[tuple], tuple | None], text: Callable[[tuple], str]) -> None:
        self.type_of, self.text = type_of, text

    def common(self, exprs: list) -> tuple | None:
        result: tuple | None = None
        for e in exprs:
            result = self._step(e, self.type_of(e), result)
        return result

    def _refused(self, e: tuple, source: tuple | None, target: tuple) -> CoercionError:
        return CoercionError(f"operator does not exist: {type_str(target)} = "
                             f"{type_str(source) if source else 'null'} ({self.text(e)})\n"
                             "Hint: You might need to add explicit type casts.")

    def _step(self, e: tuple, t: tuple | None, target: tuple | None) -> tuple | None:
        if target is None:
            return t
        if t is None:
            return target
        kind = e[0]
        if kind in ("array", "map", "struct"):
            return self._structured(e, t, target)
        if kind == "lit" and isinstance(e[1], str) and t[0] == "STRING":
            if target[0] in NUMBERS:
                return _text_number_type(e[1], target)
            if target[0] == "BOOLEAN":
                if parse_boolean(e[1]) is None:
                    raise CoercionError(f'invalid input syntax for type BOOLEAN: "{e[1]}".')
                return target
        lax = kind == "lit"
        common = can_coerce(t, target, lax) or can_coerce(target, t, lax)
        if common is None:
            raise self._refused(e, t, target)
        return common

    def _elements(self, target: tuple, exprs: list) -> tuple:
        """resolveStructuredCommonType: the constructor's members against the target's element type."""
        result: tuple | None = target
        for x in exprs:
            result = self._step(x, self.type_of(x), result)
        return result or target

    def _structured(self, e: tuple, t: tuple, target: tuple) -> tuple:
        kind = e[0].upper()
        if target[0] != kind:
            raise self._refused(e, t, target)
        try:
            if kind == "ARRAY":
                return ("ARRAY", self._elements(target[1], e[1]))
            if kind == "MAP":
                return ("MAP", self._elements(target[1], [k for k, _ in e[1]]),
                        self._elements(target[2], [v for _, v in e[1]]))
            to = dict(target[1])
            mine = dict(e[1])
            fields = []
            for name in dict.fromkeys([n for n, _ in e[1]] + [n for n, _ in target[1]]):
                if name not in to:
                    fields.append((name, self.type_of(mine[name]) or ("STRING",)))
                elif name not in mine:
                    fields.append((name, to[name]))
                else:
                    fields.append((name, self._step(mine[name], self.type_of(mine[name]), to[name]) or to[name]))
            return ("STRUCT", fields)
        except CoercionError as err:
            if str(err).startswith("operator does not exist"):
                raise self._refused(e, t, target) from None
            raise


def converter(value_type: tuple | None, common: tuple | None) -> Callable[[Any], Any]:
    """A member's value as the common type (a text literal read as its number or boolean)."""
    if common is None or value_type == common:
        return lambda v: v
    if common[0] == "BOOLEAN" and value_type and value_type[0] == "STRING":
        return lambda v: None if v is None else parse_boolean(v)
    return lambda v: casts.cast(v, common, value_type)


def matches(x: Any, y: Any) -> bool:
    """InListEvaluator's match of two values of the common type: numbers by value; inside arrays, maps and structs
    two NULLs are equal."""
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_inner(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_inner(a, b) for a, b in zip(x, y, strict=True))
    return bool(x == y)


def _inner(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return matches(x, y)


def cast_literals_to(items: list, types: list[tuple]) -> list:
    """ImplicitlyCastResolver, for INSERT INTO: a numeric literal selected into a DECIMAL column that can hold its
    digits becomes a DECIMAL of that column's type (insert-into.json "implicitly casts": `1` into a DECIMAL(5, 2))."""
    out = []
    for index, item in enumerate(items):
        target = types[index] if index < len(types) else None
        if item[0] == "expr" and target and target[0] == "DECIMAL" and item[1][0] == "lit" \
                and item[1][2] and item[1][2][0] in NUMBERS:
            d = casts.to_decimal(item[1][1])
            _, p, s = casts.decimal_type(d)
            if s <= target[2] and p - s <= target[1] - target[2]:
                item = ("expr", ("lit", casts.scaled(d, target[2]), target), *item[2:])
        out.append(item)
    return out
