"""SQL expressions compiled once per query into Python closures over a row (a dict of column -> value), with
ksqlDB's null rules (an operator over NULL gives NULL; a WHERE that is NULL drops the row) and result types."""

from __future__ import annotations

import decimal
import functools
import logging
import math
import re
from collections.abc import Callable
from typing import Any

from brook.sql import casts, coercion, functions, lambdas
from brook.sql.exprtree import SYNTHETIC_KEY as SYNTHETIC_KEY
from brook.sql.exprtree import SYSTEM_COLUMNS as SYSTEM_COLUMNS
from brook.sql.exprtree import SqlError as SqlError
from brook.sql.exprtree import check_columns as check_columns
from brook.sql.exprtree import check_reserved as check_reserved
from brook.sql.exprtree import column_refs as column_refs
from brook.sql.exprtree import columns_of as columns_of
from brook.sql.exprtree import expr_text as expr_text
from brook.sql.exprtree import generated_names as generated_names
from brook.sql.exprtree import rewrite as rewrite
from brook.sql.exprtree import unknown_column as unknown_column
from brook.sql.exprtree import unqualified as unqualified
from brook.sql.parser import type_str

log = logging.getLogger(__name__)
Row = dict[str, Any]
LVAR = "\x00lambda:"  # the row key under which a lambda's argument is bound while its body runs
NUMERIC = ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE")
COMPARISONS = {"=": "EQUAL", "!=": "NOT_EQUAL", "<": "LESS_THAN", "<=": "LESS_THAN_OR_EQUAL", ">": "GREATER_THAN",
               ">=": "GREATER_THAN_OR_EQUAL", "IS DISTINCT FROM": "IS_DISTINCT_FROM",
               "IS NOT DISTINCT FROM": "IS_NOT_DISTINCT_FROM"}  # ksqlDB's ComparisonExpression.Type names
EQUALITY = ("=", "!=", "IS DISTINCT FROM", "IS NOT DISTINCT FROM")


class CodegenError(SqlError):
    """What ksqlDB refuses when it generates the expression's code (a CAST, an IN list's members): the message then
    names the step (CodeGenRunner's `Invalid Select: Cast of STRING to ARRAY<INTEGER> is not supported.`,
    cast.json; `Invalid Predicate: operator does not exist: ...`, in.json)."""

    def within(self, step: str) -> SqlError:
        return SqlError(f"Invalid {step}: {self}.")


def _comparison_operand(t: tuple | None, other: tuple | None) -> Callable[[Any], Any] | None:
    """How an operand of type `t` is compared with one of type `other` when they differ (date.json "greater than -
    DATE TIMESTAMP", "... DATE STRING", "filter", "between"): a DATE as the TIMESTAMP of its midnight, a STRING read
    as the other side's DATE, TIME or TIMESTAMP, a DOUBLE read as a DECIMAL."""
    k, o = (t or ("",))[0], (other or ("",))[0]
    if k == "DATE" and o == "TIMESTAMP":
        return lambda v: v * casts.DAY_MS
    if k == "STRING" and o in casts.TEMPORAL:
        return lambda v: casts.cast(v, (o,), ("STRING",))
    if k == "DOUBLE" and o == "DECIMAL":  # BigDecimal.valueOf(double): its shortest text (0.1 = 0.1)
        return lambda v: decimal.Decimal(repr(v)) if isinstance(v, float) and math.isfinite(v) else v
    return None


def _convert(f: Callable[[Row], Any], how: Callable[[Any], Any] | None) -> Callable[[Row], Any]:
    if how is None:
        return f
    return lambda row: None if (v := f(row)) is None else how(v)


def _not_null(f: Callable[[Row], Any]) -> Callable[[Row], Any]:
    def value(row: Row) -> Any:
        if (v := f(row)) is None:
            raise TypeError("a lambda's arithmetic met a NULL")
        return v
    return value


_DECIMAL_OPS: dict[str, Callable[[decimal.Context, Any, Any], Any]] = {
    "+": lambda c, x, y: c.add(x, y), "-": lambda c, x, y: c.subtract(x, y), "*": lambda c, x, y: c.multiply(x, y),
    "/": lambda c, x, y: c.divide(x, y), "%": lambda c, x, y: c.remainder(x, y)}


def _decimal_arith(op: str, a: Callable[[Row], Any], b: Callable[[Row], Any], precision: int, scale: int
                   ) -> Callable[[Row], Any]:
    """DECIMAL arithmetic as ksqlDB's generated code: `x.op(y, new MathContext(p, UNNECESSARY)).setScale(s)`,
    exact; a result that would need rounding, or a division by zero, fails the expression, which is then NULL
    (decimal.json "division")."""
    context = decimal.Context(prec=precision, traps=[decimal.Inexact, decimal.DivisionByZero,
                                                     decimal.InvalidOperation, decimal.Overflow])
    unit = decimal.Decimal(1).scaleb(-scale)
    rescale = decimal.Context(prec=1000, traps=[decimal.Inexact])  # setScale: any digits, no rounding
    compute = _DECIMAL_OPS[op]

    def decimal_arith(row: Row) -> Any:
        x, y = a(row), b(row)
        if x is None or y is None:
            return None
        try:
            return compute(context, casts.to_decimal(x), casts.to_decimal(y)).quantize(unit, context=rescale)
        except (ArithmeticError, TypeError) as err:
            log.warning("Error computing expression %s: %s", op, err)
            return None
    return decimal_arith


def _as_double(f: Callable[[Row], Any], t: tuple | None) -> Callable[[Row], Any]:
    if not t or t[0] != "DECIMAL":
        return f
    return lambda row: None if (v := f(row)) is None else float(v)


def _exact(t: tuple | None) -> Callable[[Any], Any]:
    """A function's value as its SQL type holds it: a DECIMAL(p, s) as a Decimal of scale s, a DOUBLE as a float."""
    if t and t[0] == "DECIMAL" and len(t) == 3:
        scale = t[2]
        return lambda v: v if v is None or isinstance(v, bool) else casts.scaled(v, scale)
    if t == ("DOUBLE",):
        return lambda v: float(v) if isinstance(v, decimal.Decimal) else v
    return lambda v: v


def _like(pattern: str, escape: str | None = None) -> re.Pattern:
    """ksqlDB's LikeEvaluator: `%` any text, `_` one character, the escape character making the next one plain."""
    out, plain = [], False
    for c in pattern:
        if plain or c not in ("%", "_", escape):
            out.append(re.escape(c))
            plain = False
        elif c == escape:
            plain = True
        else:
            out.append(".*" if c == "%" else ".")
    return re.compile("".join(out), re.S)


def comparable(a: tuple, b: tuple, op: str) -> bool:
    """ksqlDB's ComparisonUtil, as far as Brook compares at run time: numbers with numbers, else the same type
    (BOOLEAN, ARRAY, MAP and STRUCT only for equality)."""
    if a[0] in NUMERIC or b[0] in NUMERIC:
        return a[0] in NUMERIC and b[0] in NUMERIC
    return a[0] == b[0] and (op in EQUALITY or a[0] not in ("BOOLEAN", "ARRAY", "MAP", "STRUCT"))


class Compiler:
    """Knows the columns in scope (name -> type) and resolves references against them."""

    def __init__(self, columns: dict[str, tuple], source_alias: str | None = None, source_name: str = "") -> None:
        self.columns = columns
        self.qualifiers = {q for q in (source_alias, source_name) if q}
        self.lambda_vars: dict[str, tuple | None] = {}
        self.clause = ""  # WHERE or HAVING while compile_filter runs
        self.display: dict[str, tuple] = {}  # a rewritten column -> the expression it stands for, in messages

    def scoped(self, params: tuple, types: list) -> Compiler:
        """This compiler with a lambda's parameters in scope (shadowing the outer ones of the same name)."""
        inner = Compiler(self.columns)
        inner.qualifiers = self.qualifiers
        inner.clause, inner.display = self.clause, self.display
        inner.lambda_vars = {**self.lambda_vars, **dict(zip(params, types, strict=True))}
        return inner

    def column(self, qualifier: str | None, name: str) -> str:
        if qualifier is not None and qualifier not in self.qualifiers:
            # `a.b` where `a` is a struct column reads as a dereference in ksqlDB too
            raise SqlError(f"'{qualifier}' is not a valid stream/table name or alias.")
        if name not in self.columns:
            raise SqlError(f"Column '{name}' cannot be resolved.")
        return name

    def type_of(self, e: tuple) -> tuple | None:
        kind = e[0]
        if kind == "lit":
            return e[2]
        if kind == "col":
            return self.columns[self.column(e[1], e[2])]
        if kind == "in":
            self._in_common(e)
            return ("BOOLEAN",)
        if kind in ("cmp", "and", "or", "not", "isnull", "between", "like"):
            return ("BOOLEAN",)
        if kind == "bin":
            if e[1] == "||":
                return ("STRING",)
            a, b = self.type_of(e[2]), self.type_of(e[3])
            if (a and a[0] == "STRING") or (b and b[0] == "STRING"):
                return ("STRING",)
            if a and b and (a[0] not in NUMERIC or b[0] not in NUMERIC):
                lead = f"Error in {self.clause} expression: " if self.clause else ""
                raise SqlError(f"{lead}Error processing expression: {self.text(e)}. Unsupported arithmetic types. "
                               f"{a[0]} {b[0]}")
            return coercion.arithmetic_type(a, b, e[1])
        if kind == "neg":
            return self.type_of(e[1])
        if kind == "cast":
            message = casts.refuse(self.type_of(e[1]), e[2])
            if message:
                raise CodegenError(message)
            return e[2]
        if kind == "case":
            for _, v in e[1]:
                t = self.type_of(v)
                if t:
                    return t
            t = self.type_of(e[2]) if e[2] else None
            if t is None:
                raise SqlError("Invalid Case expression. All case branches have NULL type")
            return t
        if kind == "call":
            if e[1] in functions.LAMBDA_FUNCTIONS:
                return lambdas.result_type(self, e[1], e[2])
            return functions.return_type(e[1], [self.type_of(a) for a in e[2] if a[0] != "star"])
        if kind == "lvar":
            return self.lambda_vars[e[1]]
        if kind == "lambda":
            raise SqlError("Lambdas are only allowed as arguments of TRANSFORM, FILTER and REDUCE.")
        if kind in ("array", "map", "struct"):
            return self._constructor_type(e)
        if kind == "subscript":
            t = self.type_of(e[1])
            return t[1] if t and t[0] == "ARRAY" else t[2] if t and t[0] == "MAP" else None
        if kind == "deref":
            t = self.type_of(e[1])
            if not t or t[0] != "STRUCT":
                raise SqlError(f"Expected STRUCT type, got: {type_str(t) if t else 'NULL'}")
            for name, ft in t[1]:
                if name == e[2]:
                    return ft
            raise SqlError(f"Could not find field '{e[2]}' in '{type_str(t)}'.")
        raise SqlError(f"Unsupported expression: {kind}")

    def compile(self, e: tuple) -> Callable[[Row], Any]:  # noqa: C901 - one branch per node kind
        kind = e[0]
        if kind == "lit":
            value = e[1]
            return lambda row: value
        if kind == "col":
            name = self.column(e[1], e[2])
            return lambda row: row.get(name)
        if kind == "cmp":
            a, b, op = self.compile(e[2]), self.compile(e[3]), e[1]
            self._check_comparable(e[2], e[3], op)
            ta, tb = self.type_of(e[2]), self.type_of(e[3])
            a, b = _convert(a, _comparison_operand(ta, tb)), _convert(b, _comparison_operand(tb, ta))
            if op in ("IS DISTINCT FROM", "IS NOT DISTINCT FROM"):
                same = op == "IS NOT DISTINCT FROM"
                return lambda row: (a(row) == b(row)) == same  # NULL equals NULL and differs from a value
            test = {"=": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y,
                    "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}[op]

            def compare(row: Row) -> bool:
                x, y = a(row), b(row)  # ksqlDB's comparison with a NULL side is false (decimal.json, date.json)
                return False if x is None or y is None else test(x, y)
            return compare
        if kind == "and":
            a, b = self.compile(e[1]), self.compile(e[2])

            def and_(row: Row) -> bool | None:
                x = a(row)
                if x is False:
                    return False
                y = b(row)
                return False if y is False else (None if x is None or y is None else True)
            return and_
        if kind == "or":
            a, b = self.compile(e[1]), self.compile(e[2])

            def or_(row: Row) -> bool | None:
                x = a(row)
                if x is True:
                    return True
                y = b(row)
                return True if y is True else (None if x is None or y is None else False)
            return or_
        if kind == "not":
            a = self.compile(e[1])
            return lambda row: None if (x := a(row)) is None else not x
        if kind == "isnull":
            a, negate = self.compile(e[2]), e[1]
            return lambda row: (a(row) is None) != negate
        if kind == "between":
            negate, a, lo, hi = e[1], self.compile(e[2]), self.compile(e[3]), self.compile(e[4])
            tx, tlo, thi = self.type_of(e[2]), self.type_of(e[3]), self.type_of(e[4])
            a = _convert(a, _comparison_operand(tx, tlo or thi))
            lo, hi = _convert(lo, _comparison_operand(tlo, tx)), _convert(hi, _comparison_operand(thi, tx))

            def between(row: Row) -> bool | None:
                x, low, high = a(row), lo(row), hi(row)  # ksqlDB's two comparisons, each false with a NULL
                return (x is not None and low is not None and low <= x and high is not None and x <= high) != negate
            return between
        if kind == "like":
            negate, a, p = e[1], self.compile(e[2]), self.compile(e[3])
            escape = e[4] if len(e) > 4 else None

            def like(row: Row) -> bool | None:
                x, pattern = a(row), p(row)
                return None if x is None or pattern is None else bool(_like(pattern, escape).fullmatch(x)) != negate
            return like
        if kind == "in":
            return self._in(e)
        if kind == "bin":
            return self._binop(e)
        if kind == "neg":
            a = self.compile(e[1])
            # a Decimal's own `-` rounds to Python's 28 digits; copy_negate is BigDecimal.negate, exact
            return lambda row: None if (x := a(row)) is None else x.copy_negate() if isinstance(
                x, decimal.Decimal) else -x
        if kind == "cast":
            self.type_of(e)
            a, target, source = self.compile(e[1]), e[2], self.type_of(e[1])
            return lambda row: functions.cast(a(row), target, source)
        if kind == "case":
            whens = [(self.compile(c), self.compile(v)) for c, v in e[1]]
            other = self.compile(e[2]) if e[2] is not None else (lambda row: None)
            exact = _exact(self.type_of(e))  # a branch's DECIMAL at the first branch's scale

            def case(row: Row) -> Any:
                for c, v in whens:
                    if c(row) is True:
                        return exact(v(row))
                return exact(other(row))
            return case
        if kind == "call":
            return self._call(e)
        if kind == "subscript":
            a, i, t = self.compile(e[1]), self.compile(e[2]), self.type_of(e[1])
            if t and t[0] == "ARRAY":
                return lambda row: functions.array_index(a(row), i(row))
            return lambda row: None if (m := a(row)) is None else m.get(i(row))
        if kind == "deref":
            self.type_of(e)
            a, name = self.compile(e[1]), e[2]
            return lambda row: None if (s := a(row)) is None else s.get(name)
        if kind == "lvar":
            key = LVAR + e[1]
            return lambda row: row[key]
        if kind in ("array", "map", "struct", "lambda"):
            self.type_of(e)
            return self._constructor(e)
        raise SqlError(f"Unsupported expression: {kind}")

    def compile_filter(self, e: tuple, clause: str) -> Callable[[Row], Any]:
        """A WHERE or HAVING expression: its comparisons' errors lead with the clause, as ksqlDB's
        FilterTypeValidator's do ("Error in WHERE expression: ...")."""
        self.clause = clause
        try:
            return self.compile(e)
        except CodegenError as err:
            raise err.within("Predicate") from None
        finally:
            self.clause = ""

    def select_type(self, e: tuple) -> tuple | None:
        """The type of a SELECT expression (a refused CAST named as ksqlDB's projection step names it)."""
        if e == ("lit", None, None):  # ksqlDB's SelectionUtil, building the projection's schema
            raise SqlError("Can't infer a type of null. Please explicitly cast it to a required type, e.g. "
                           "CAST(null AS VARCHAR).")
        try:
            return self.type_of(e)
        except CodegenError as err:
            raise err.within("Select") from None

    def _constructor_type(self, e: tuple) -> tuple:
        """ksqlDB's ExpressionTypeManager: ARRAY[...] and MAP(...) take their members' common type as an IN list
        does (create_array.json, create_map.json), with its refusals; a STRUCT's field names must differ."""
        kind, members = e[0], e[1]
        if kind == "struct":
            fields: dict[str, tuple] = {}
            for name, v in members:
                t = self.type_of(v) or ("STRING",)
                if name in fields:
                    raise SqlError(f"Duplicate field names found in STRUCT: '`{name}` {type_str(fields[name])}' and "
                                   f"'`{name}` {type_str(t)}'")
                fields[name] = t
            return ("STRUCT", list(fields.items()))
        what = "Array" if kind == "array" else "Map"
        if not members:
            raise SqlError(f"{what} constructor cannot be empty. Please supply at least one "
                           f"{'element' if kind == 'array' else 'key value pair'} "
                           "(see https://github.com/confluentinc/ksql/issues/4239).")
        lists = [("elements", members)] if kind == "array" else [("keys", [k for k, _ in members]),
                                                                 ("values", [v for _, v in members])]
        types = []
        for part, exprs in lists:
            try:
                common = coercion.UserList(self.type_of, self.text).common(exprs)
            except coercion.CoercionError as err:
                raise SqlError(str(err)) from None
            if common is None:
                single = part[:-1]
                raise SqlError(f"Cannot construct {'an array' if kind == 'array' else 'a map'} with all NULL {part} "
                               f"(see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may "
                               f"cast a NULL {'value' if single == 'element' else single} to the desired type.")
            types.append(common)
        return ("ARRAY", types[0]) if kind == "array" else ("MAP", types[0], types[1])

    def _in_common(self, e: tuple) -> tuple | None:
        members = [e[2]] + [x for x in e[3] if x != ("lit", None, None)]
        try:
            return coercion.UserList(self.type_of, self.text).common(members)
        except coercion.CoercionError as err:
            raise CodegenError(str(err)) from None

    def _in(self, e: tuple) -> Callable[[Row], Any]:
        """`x [NOT] IN (...)` as ksqlDB's InListEvaluator: every member converted to the list's common type, a
        NULL value or member matching nothing (so `NULL NOT IN (...)` is true)."""
        common = self._in_common(e)
        negate = e[1]
        x_fn = _convert(self.compile(e[2]), coercion.converter(self.type_of(e[2]), common))
        options = [_convert(self.compile(o), coercion.converter(self.type_of(o), common))
                   for o in e[3] if o != ("lit", None, None)]

        def in_(row: Row) -> bool:
            x = x_fn(row)
            found = x is not None and any((y := o(row)) is not None and coercion.matches(x, y) for o in options)
            return found != negate
        return in_

    def _check_comparable(self, x: tuple, y: tuple, op: str) -> None:
        """ksqlDB's ComparisonUtil: numbers with numbers, else the same type (BOOLEAN, ARRAY, MAP and STRUCT only
        for equality); the message names the expressions (ExpressionTypeManager's unlogged details)."""
        a, b = self.type_of(x), self.type_of(y)
        lead = f"Error in {self.clause} expression: " if self.clause else ""
        if x == ("lit", None, None) or y == ("lit", None, None):
            def base(t: tuple | None) -> str:
                return t[0] if t else "NULL"
            raise SqlError(f"{lead}Comparison with NULL not supported: {base(a)} {'<>' if op == '!=' else op} "
                           f"{base(b)}\nUse 'IS NULL' or 'IS NOT NULL' instead.")
        if a is None or b is None:
            return
        if _comparison_operand(a, b) or _comparison_operand(b, a):
            return  # a DATE with a TIMESTAMP, a temporal type with a STRING (date.json)
        if not comparable(a, b, op):
            # in WHERE and HAVING the comparison follows (FilterTypeValidator keeps its unlogged details)
            where = f"\nStatement: {self.text(('cmp', op, x, y))}" if self.clause else ""
            raise SqlError(f"{lead}Cannot compare {self.text(x)} ({type_str(a)}) to {self.text(y)} ({type_str(b)}) "
                           f"with {COMPARISONS[op]}.{where}")

    def text(self, e: Any) -> str:
        """An expression as ksqlDB prints it in messages (`display` names the columns a plan rewrote)."""
        if self.display:
            e = rewrite(e, lambda x: self.display.get(x[2]) if isinstance(x, tuple) and x[:1] == ("col",) else None)
        return expr_text(e)

    def _binop(self, e: tuple) -> Callable[[Row], Any]:
        op, a, b = e[1], self.compile(e[2]), self.compile(e[3])
        result = self.type_of(e)
        assert result is not None  # type_of gives a binary operation STRING or a numeric type
        integral = result[0] in ("INTEGER", "BIGINT")
        if self.lambda_vars and result[0] != "STRING":
            # in a lambda ksqlDB's Java unboxes the operands: a NULL fails the whole call, whose column is then
            # NULL (transform-array.json "apply transform lambda function to array": TRANSFORM([5, NULL], ...))
            a, b = _not_null(a), _not_null(b)
        if op in ("+", "||") and result[0] == "STRING":
            def concat(row: Row) -> str | None:
                x, y = a(row), b(row)
                return None if x is None or y is None else f"{x}{y}"
            return concat
        if op == "/" and integral:
            def div(row: Row) -> int | None:
                x, y = a(row), b(row)
                if x is None or y is None or y == 0:
                    return None  # ksqlDB: integer division by zero is NULL
                q = abs(x) // abs(y)
                return q if (x >= 0) == (y >= 0) else -q
            return div
        if op == "%" and integral:
            def mod(row: Row) -> int | None:
                x, y = a(row), b(row)
                if x is None or y is None or y == 0:
                    return None
                r = abs(x) % abs(y)
                return r if x >= 0 else -r
            return mod
        if result[0] == "DECIMAL" and len(result) == 3:
            return _decimal_arith(op, a, b, result[1], result[2])
        # a DECIMAL operand of a DOUBLE operation is cast to DOUBLE first, as ksqlDB's generated code does
        a, b = _as_double(a, self.type_of(e[2])), _as_double(b, self.type_of(e[3]))
        fn = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
              "/": functions.divide, "%": functions.modulo}[op]

        def arith(row: Row) -> Any:
            x, y = a(row), b(row)
            return None if x is None or y is None else fn(x, y)
        return arith

    def _constructor(self, e: tuple) -> Callable[[Row], Any]:
        kind = e[0]
        # elements are coerced to the constructor's common type (create_array.json, create_map.json)
        if kind == "array":
            t = self.type_of(e)
            assert t is not None
            items = [(self.compile(x), self.type_of(x)) for x in e[1]]
            return lambda row: [casts.coerce_to(f(row), t[1], ft) for f, ft in items]
        if kind == "map":
            mt = self.type_of(e)
            assert mt is not None
            pairs = [(self.compile(k), self.type_of(k), self.compile(v), self.type_of(v)) for k, v in e[1]]
            return lambda row: {casts.coerce_to(k(row), mt[1], kt): casts.coerce_to(v(row), mt[2], vt)
                                for k, kt, v, vt in pairs}
        fields = [(name, self.compile(v)) for name, v in e[1]]
        return lambda row: {name: f(row) for name, f in fields}

    def lambda_fn(self, e: tuple, types: list) -> Callable[[Row], Callable]:
        """A lambda argument: for each row, a Python function of the lambda's parameters."""
        params = e[1]
        body = self.scoped(params, types).compile(e[2])
        keys = [LVAR + p for p in params]

        def bind(row: Row) -> Callable:
            def call(*values: Any) -> Any:
                return body({**row, **dict(zip(keys, values, strict=True))})
            return call
        return bind

    def _call(self, e: tuple) -> Callable[[Row], Any]:
        name, args = e[1], e[2]
        entry = functions.scalar(name)
        if entry is None:
            if name in functions.AGGREGATES:
                raise SqlError(f"Use of aggregate function {name} requires a GROUP BY clause.")
            raise SqlError(f"Can't find any functions with the name '{name}'")
        impl = entry.impl
        if name in functions.LAMBDA_FUNCTIONS:
            compiled = lambdas.compile_args(self, name, args)
        else:
            compiled = [self.compile(a) for a in args]
        types = [self.type_of(a) for a in args] if name not in functions.LAMBDA_FUNCTIONS else []
        if name not in functions.LAMBDA_FUNCTIONS:
            functions.check(name, types)
        if entry.typed:
            impl = functools.partial(impl, types)
        result = self.type_of(e)
        if result == ("DOUBLE",):  # a DOUBLE function (SQRT, a COALESCE widened to DOUBLE) takes DECIMALs as doubles
            compiled = [_as_double(c, t) for c, t in zip(compiled, types, strict=False)]
        exact = _exact(result if entry.category != "TABLE" else None)  # a table function gives all its rows

        def call(row: Row) -> Any:
            values = [c(row) for c in compiled]
            try:
                return exact(impl(*values))
            except (ValueError, TypeError, ArithmeticError, LookupError) as err:
                # ksqlDB logs a failing function to the processing log and the column is NULL
                log.warning("Error computing expression %s: %s", name, err)
                return None
        return call
