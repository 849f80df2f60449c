"""ksqlDB statements parsed with lark (grammar.lark) into the dataclasses of statements.py; expressions stay tuples that
`expressions.compile_expr` turns into closures once per query.  ksqlDB's case rules: unquoted identifiers are
upper-cased, back-quoted or double-quoted ones kept as written."""

from __future__ import annotations

import decimal
import functools
import math
import re
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from brook.sql.casts import decimal_type
from brook.sql.functions_datetime import UNIT_FUNCTIONS
from brook.sql.functions_datetime import UNITS as TIME_UNITS
from brook.sql.statements import Alter as Alter
from brook.sql.statements import Col as Col
from brook.sql.statements import Create as Create
from brook.sql.statements import Describe as Describe
from brook.sql.statements import Drop as Drop
from brook.sql.statements import Explain as Explain
from brook.sql.statements import InsertSelect as InsertSelect
from brook.sql.statements import InsertValues as InsertValues
from brook.sql.statements import Join as Join
from brook.sql.statements import Name
from brook.sql.statements import ParseError as ParseError
from brook.sql.statements import PrintTopic as PrintTopic
from brook.sql.statements import Query as Query
from brook.sql.statements import SetProperty as SetProperty
from brook.sql.statements import Show as Show
from brook.sql.statements import Statement as Statement
from brook.sql.statements import Terminate as Terminate
from brook.sql.statements import UnsetProperty as UnsetProperty
from brook.sql.statements import position as position
from brook.sql.statements import type_str as type_str
from brook.sql.syntax_errors import syntax_error
from brook.sql.syntax_errors import unknown_statement as unknown_statement
from brook.sql.windows import WindowSpec, duration_ms

TYPE_ALIASES = {"INT": "INTEGER", "VARCHAR": "STRING"}
BASE_TYPES = ("BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL", "STRING", "BYTES", "DATE", "TIME", "TIMESTAMP")


class PrepareError(ParseError):
    """A statement ksqlDB's AstBuilder rejects: "Failed to prepare statement: ...", no line."""


class PlacedError(ParseError):
    """A syntax error whose message already gives its own place ("line L:C: ...")."""


def _unquote_string(raw: str) -> str:
    return raw[1:-1].replace("''", "'")


@v_args(inline=True)
class _Build(Transformer):
    def identifier(self, tok: Token) -> str:
        if tok.type == "QUOTED_IDENTIFIER":
            q = tok[0]
            return tok[1:-1].replace(q + q, q)
        return tok.upper()

    # literals carry their SQL type so that projections and DESCRIBE know it
    def string(self, t):
        return ("lit", _unquote_string(t), ("STRING",))

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text  # the request, for a literal's sign in messages

    def _refuse(self, meta: Any, t: Token, what: str) -> PrepareError:
        """ksqlDB's ParserUtil refusal of a literal: its place as ksqlDB's NodeLocation gives it (one column on)
        and its text with the sign before it (literals.json "BIGINT literal negative overflow")."""
        sign = "-" if self.text[:meta.start_pos].rstrip().endswith("-") else ""
        return PrepareError(f"line {meta.line}:{meta.column + 1}: {what}: {sign}{t}")

    @v_args(meta=True, inline=True)
    def integer(self, meta, t):
        v = int(t)
        negative = self.text[:meta.start_pos].rstrip().endswith("-")
        if v > 2**63 - 1 + negative:  # ksqlDB reads the sign with the digits: Long.MIN_VALUE is a literal
            raise self._refuse(meta, t, "Invalid numeric literal")
        return ("lit", v, ("INTEGER",) if v < 2**31 else ("BIGINT",))

    @v_args(meta=True, inline=True)
    def decimal(self, meta, t):
        # ksqlDB: digits with a point are a DECIMAL literal, typed by its digits as DecimalUtil.fromValue does
        # (`1.5` DECIMAL(2, 1), `0.05` DECIMAL(3, 2)); with an exponent a DOUBLE (binary-arithmetic.json)
        if "e" in t or "E" in t:
            if math.isinf(float(t)):
                raise self._refuse(meta, t, "Number overflows DOUBLE")
            return ("lit", float(t), ("DOUBLE",))
        d = decimal.Decimal(str(t))
        return ("lit", d, decimal_type(d))

    def true(self, _):
        return ("lit", True, ("BOOLEAN",))

    def false(self, _):
        return ("lit", False, ("BOOLEAN",))

    def null(self, _):
        return ("lit", None, None)

    @v_args(meta=True, inline=True)
    def column(self, meta, a, b=None):
        ref = Col(("col", a, b) if b is not None else ("col", None, a))
        ref.pos = (meta.line, meta.column)
        return ref

    def call(self, name, args=None):
        if isinstance(args, Token):  # COUNT(*)
            return ("call", name, [("star",)])
        args = args or []
        if name in UNIT_FUNCTIONS and args and args[0][:2] == ("col", None) and args[0][2] in TIME_UNITS:
            args[0] = ("lit", args[0][2], ("STRING",))  # TIMESTAMPADD(DAYS, ...): a time unit, not a column
        return ("call", name, args)

    def lambda_(self, head, body):
        # the parameters' references become ("lvar", name) so that they are never taken for columns (an inner
        # lambda, built first, has already bound its own, which shadow ours)
        params = tuple(p.upper() for p in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(head)))

        def bind(e):
            if isinstance(e, tuple) and e[:2] == ("col", None) and e[2] in params:
                return ("lvar", e[2])
            if isinstance(e, tuple):
                return tuple(bind(x) if isinstance(x, (tuple, list)) else x for x in e)
            if isinstance(e, list):
                return [bind(x) for x in e]
            return e
        return ("lambda", params, bind(body))

    def keyword_column(self, tok):
        return ("col", None, str(tok).upper())

    def array_ctor(self, items=None):
        return ("array", items or [])

    def map_entry(self, k, v):
        return (k, v)

    def map_ctor(self, *entries):
        return ("map", list(entries))

    def struct_entry(self, name, v):
        return (name, v)

    def struct_ctor(self, *fields):
        return ("struct", list(fields))

    def expr_list(self, *items):
        return list(items)

    def binop(self, a, op, b):
        return ("bin", str(op), a, b)

    def neg(self, a):
        return ("neg", a)

    def comp_op(self, op):
        return str(op)

    def compare(self, a, op, b):
        return ("cmp", "!=" if op == "<>" else op, a, b)

    def and_(self, a, b):
        return ("and", a, b)

    def or_(self, a, b):
        return ("or", a, b)

    def not_(self, _not, a):
        return ("not", a)

    def is_null(self, a, neg=None):
        return ("isnull", neg is not None, a)

    def is_distinct(self, a, *rest):  # a comparison that takes NULL as a value
        return ("cmp", "IS NOT DISTINCT FROM" if len(rest) == 2 else "IS DISTINCT FROM", a, rest[-1])

    def between(self, a, *rest):
        neg = len(rest) == 3
        lo, hi = rest[-2:]
        return ("between", neg, a, lo, hi)

    def like(self, a, *rest):
        parts = list(rest)
        if parts and isinstance(parts[-1], Token) and parts[-1].type == "STRING":  # `ESCAPE '!'` (like.json)
            escape = _unquote_string(parts.pop())
            return ("like", len(parts) == 2, a, parts[-1], escape)
        return ("like", len(parts) == 2, a, parts[-1])

    def in_list(self, a, *rest):
        return ("in", len(rest) == 2, a, rest[-1])

    def when(self, cond, value):
        return (cond, value)

    def case(self, *parts):
        whens = [p for p in parts if isinstance(p, tuple) and len(p) == 2 and not isinstance(p[0], str)]
        other = parts[-1] if len(parts) > len(whens) else None
        return ("case", whens, other)

    def cast(self, e, t):
        return ("cast", e, t)

    def subscript(self, e, i):
        return ("subscript", e, i)

    def deref(self, e, name):
        return ("deref", e, name)

    def deref_all(self, e):
        return ("struct*", e)

    # types
    @v_args(meta=True, inline=True)
    def base_type(self, meta, name, *params):
        name = TYPE_ALIASES.get(name, name)
        if name == "NULL":  # a keyword in ksqlDB's grammar, where a type is expected (cast.json "to null")
            at = f"{meta.line}:{meta.column}"
            raise PlacedError(f"line {at}: Syntax Error\nSyntax error at or near 'NULL' at line {at}")
        if name not in BASE_TYPES:
            raise ParseError(f"Unknown type: {name}")
        if name == "DECIMAL":
            if len(params) != 2 or not all(p.type == "INT_NUMBER" for p in params):
                raise ParseError("DECIMAL requires a precision and a scale: DECIMAL(precision, scale)")
            return ("DECIMAL", int(params[0]), int(params[1]))
        return (name,)

    def array_type(self, _lt, t, _gt):
        return ("ARRAY", t)

    def map_type(self, _lt, k, v, _gt):
        return ("MAP", k, v)

    def field(self, name, t):
        return (name, t)

    def struct_type(self, _lt, *fields):
        return ("STRUCT", list(fields[:-1]))

    # statements
    def key(self, _):
        return "KEY"

    def primary_key(self, _):
        return "PRIMARY KEY"

    def headers(self):
        return "HEADERS"

    def header_key(self, key):  # HEADER('k'): one header's last value, as the column's namespace text
        return "HEADER('" + _unquote_string(key).replace("'", "''") + "')"

    def element(self, name, t, constraint=None):
        return (name, t, constraint)

    def elements(self, *els):
        return list(els)

    def prop(self, name, _eq, value):
        return (name, value[1])

    def with_props(self, *props):
        return dict(props)

    def as_query(self, q):
        return q

    def create(self, *parts):
        c = Create(kind="", name="")
        for p in parts:
            if isinstance(p, Token) and p.type == "KIND":
                c.kind = p.upper()
            elif isinstance(p, str):
                c.name = p
            elif isinstance(p, list):
                c.elements = p
            elif isinstance(p, dict):
                c.props = {k.upper(): v for k, v in p.items()}
            elif isinstance(p, Query):
                c.query = p
            elif isinstance(p, tuple):
                setattr(c, p[0], True)
        if c.query is not None and c.query.limit is not None:  # AstBuilder.disallowLimitClause
            raise PrepareError(f"CREATE {c.kind} AS SELECT statements don't support LIMIT clause.")
        return c

    def or_replace(self):
        return ("or_replace",)

    def source_kw(self):
        return ("source",)

    def if_not_exists(self, _not):
        return ("if_not_exists",)

    def if_exists(self):
        return ("if_exists",)

    def delete_topic(self):
        return ("delete_topic",)

    def show(self, _kw, what, extended=None):
        return Show(what.upper(), extended is not None)

    def describe(self, *parts):
        return Describe(parts[-1], len(parts) == 2)

    def drop(self, kind, *parts):
        names = [p for p in parts if isinstance(p, str)]
        flags = {p[0] for p in parts if isinstance(p, tuple)}
        return Drop(kind.upper(), names[0], "if_exists" in flags, "delete_topic" in flags)

    def alter(self, kind, name, *options):
        return Alter(kind.upper(), name, list(options))

    def alter_option(self, name, t):
        return (name, t)

    def column_list(self, *names):
        return list(names)

    def insert_values(self, target, *rest):
        columns = rest[0] if len(rest) == 2 else None
        return InsertValues(target, columns, rest[-1])

    @v_args(meta=True, inline=True)
    def insert_target(self, meta, name):
        target = Name(name)
        target.pos = (meta.line, meta.column)
        return target

    def insert_select(self, target, *rest):
        return InsertSelect(target, rest[-1], rest[0] if len(rest) == 2 else {})

    def set_prop(self, name, _eq, value):
        return SetProperty(_unquote_string(name), _unquote_string(value))

    def unset_prop(self, name):
        return UnsetProperty(_unquote_string(name))

    def terminate(self, target):
        return Terminate(None if isinstance(target, Token) else target)

    def print_topic(self, topic, *clauses):
        p = PrintTopic(_unquote_string(topic), True) if isinstance(topic, Token) else PrintTopic(topic, False)
        for name, value in clauses:
            setattr(p, name, value)
        return p

    def from_beginning(self):
        return ("from_beginning", True)

    def print_interval(self, n):
        return ("interval", int(n))

    def explain(self, target):
        return Explain(target, None) if isinstance(target, str) else Explain(None, target)

    # queries
    def all_columns(self):
        return ("*",)

    def source_all_columns(self, name):
        return ("src*", name)

    def select_expr(self, e, alias=None):
        if e[0] == "struct*":  # `struct->*`: each of its fields, named by the field (queries.expand_struct_stars)
            return e
        return ("expr", e, alias)

    def select_items(self, *items):
        return list(items)

    def source_ref(self, name, alias=None):
        return (name, alias)

    def where(self, e):
        return ("where", e)

    def group_by(self, exprs):
        return ("group_by", exprs)

    def having(self, e):
        return ("having", e)

    def emit(self, kind):
        return ("emit", kind.upper())

    def limit(self, n):
        if isinstance(n, Tree):  # `negative`: its number's token
            n = Token(n.children[0].type, "-" + n.children[0])
        if n.type != "INT_NUMBER":  # ParserUtil.processIntegerNumber
            raise PrepareError("Value must be integer for command: LIMIT")
        return ("limit", int(n))

    def print_limit(self, n):
        return ("limit", int(n))

    def partition_by(self, exprs=None):
        if not exprs:  # `PARTITION BY ()`
            raise PrepareError("PARTITION BY requires at least one expression")
        return ("partition_by", exprs)

    def duration(self, amount, unit):
        try:
            return duration_ms(int(amount), unit)
        except ValueError as e:
            raise ParseError(str(e)) from None

    def grace(self, ms):
        return ms

    def within_pair(self, before, after):
        return (before, after)

    def within(self, span, grace=None):
        return ("within", span if isinstance(span, tuple) else (span, span), grace)

    def join_type(self, *words):
        return ("join_type", str(words[0]).upper())

    def join(self, *parts):
        kind = "INNER"
        if isinstance(parts[0], tuple) and parts[0][0] == "join_type":
            kind, parts = parts[0][1], parts[1:]
        (source, alias), within, on = parts[0], None, parts[-1]
        if len(parts) == 3:
            within = parts[1]
        return Join(kind, source, alias, on, within[1] if within else None, within[2] if within else None)

    def w_size(self, ms):
        return ("size", ms)

    def w_advance(self, ms):
        return ("advance", ms)

    def w_retention(self, ms):
        return ("retention", ms)

    def w_grace(self, ms):
        return ("grace", ms)

    def w_gap(self, ms):
        return ("size", ms)

    def window(self, *children):
        if children[0].type == "IDENTIFIER":  # the window's name
            children = children[1:]
        kind, params = children[0], children[1:]
        p = dict(params)
        kind = kind.upper()
        if kind == "HOPPING" and "advance" not in p:
            raise ParseError("HOPPING windows require an ADVANCE BY")
        return ("window", WindowSpec(kind, p["size"], p.get("advance", 0), p.get("grace"), p.get("retention")))

    def query(self, items, source, *clauses):
        q = Query(items, source[0], source[1])
        for clause in clauses:
            if isinstance(clause, Join):
                q.joins.append(clause)
                continue
            name, value = clause
            setattr(q, name, value)
        return q


@functools.cache
def _lark() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    return Lark(grammar, start="statements", parser="lalr", lexer="contextual", propagate_positions=True)


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse(text: str, variables: dict[str, str] | None = None) -> list[Statement]:
    """Every statement of a request, each with its own text (ksqlDB parses the whole request before running any).
    `${var}` is substituted from DEFINE'd variables first, as ksqlDB does."""
    if variables:
        text = _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), text)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as e:
        raise syntax_error(_lark(), text, e) from None
    out = []
    for stmt in tree.children:
        assert isinstance(stmt, Tree) and isinstance(stmt.children[0], Tree)  # grammar.lark: stmt: statement ";"
        try:
            node = _Build(text).transform(stmt.children[0])
        except VisitError as e:
            if isinstance(e.orig_exc, PlacedError):
                raise ParseError(str(e.orig_exc)) from None
            if isinstance(e.orig_exc, PrepareError):
                raise ParseError(f"Failed to prepare statement: {e.orig_exc}") from None
            if isinstance(e.orig_exc, ParseError):
                raise ParseError(f"line {stmt.meta.line}:{stmt.meta.column}: {e.orig_exc}") from None
            raise
        out.append(Statement(text[stmt.meta.start_pos:stmt.meta.end_pos], node))
    return out
