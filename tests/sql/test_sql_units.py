"""The parser (ksqlDB's case rules, statements, syntax errors), expressions with ksqlDB's NULL rules and scalar
functions, and the KAFKA / JSON / DELIMITED formats, without processes."""

from __future__ import annotations

import struct
from decimal import Decimal

import pytest

from brook.sql import formats
from brook.sql.expressions import Compiler, SqlError
from brook.sql.parser import Create, Drop, InsertValues, ParseError, Query, SetProperty, Show, parse, type_str


def test_identifiers_upper_cased_unless_quoted_and_statement_text_kept():
    stmts = parse("create stream `MixedCase` (`id` int key, Name varchar) with (kafka_topic='t', "
                  "value_format='json');\n  SHOW streams;")
    create = stmts[0].node
    assert isinstance(create, Create) and create.name == "MixedCase"
    assert create.elements == [("id", ("INTEGER",), "KEY"), ("NAME", ("STRING",), None)]
    assert create.props == {"KAFKA_TOPIC": "t", "VALUE_FORMAT": "json"}
    assert stmts[1].text == "SHOW streams;" and stmts[1].node == Show("STREAMS")


def test_statements():
    drop, insert, set_, query = (s.node for s in parse(
        "DROP TABLE IF EXISTS t DELETE TOPIC; INSERT INTO s (a) VALUES ('x''y');"
        "SET 'auto.offset.reset' = 'earliest'; SELECT a AS b, COUNT(*) FROM s s1 WHERE s1.a > 1 GROUP BY a "
        "EMIT CHANGES LIMIT 5;"))
    assert drop == Drop("TABLE", "T", if_exists=True, delete_topic=True)
    assert insert == InsertValues("S", ["A"], [("lit", "x'y", ("STRING",))])
    assert set_ == SetProperty("auto.offset.reset", "earliest")
    assert isinstance(query, Query) and (query.source, query.alias, query.emit, query.limit) == ("S", "S1",
                                                                                                  "CHANGES", 5)
    assert query.items[1] == ("expr", ("call", "COUNT", [("star",)]), None)


def test_keywords_usable_as_column_names_where_ksqldb_allows():
    query = parse("SELECT key, tables, emit FROM s EMIT CHANGES;")[0].node
    assert [i[1][2] for i in query.items] == ["KEY", "TABLES", "EMIT"]


def test_types_print_as_ksqldb():
    create = parse("CREATE TABLE t (k STRING PRIMARY KEY, m MAP<STRING, ARRAY<INT>>, s STRUCT<a INT, b DECIMAL(4, 2)>)"
                   " WITH (kafka_topic='t', value_format='json');")[0].node
    assert [type_str(t) for _, t, _ in create.elements] == [
        "STRING", "MAP<STRING, ARRAY<INTEGER>>", "STRUCT<`A` INTEGER, `B` DECIMAL(4, 2)>"]


@pytest.mark.parametrize("text, prefix", [
    # SyntaxErrorValidator: the closest command, ANTLR's missing token, a short list of what was expected
    ("SELEC * FROM s;", "line 1:1: Syntax Error\nUnknown statement 'SELEC'\nDid you mean 'SELECT'?"),
    ("SHOW STREAMS", "line 1:13: Syntax Error\nmissing ';' at '<EOF>'"),
    ("CREATE STREAM I (K STRING (KEY)) WITH (kafka_topic='i', value_format='JSON');",
     "line 1:28: Syntax Error\nExpecting {'STRING', INTEGER_VALUE}"),
    ("SELECT * FROM s\nWHERE ;", "line 2:7: Syntax Error"),
    ("CREATE STREAM s (a FOO) WITH (kafka_topic='t');", "line 1:1: Unknown type: FOO"),
])
def test_syntax_errors_have_line_and_column(text, prefix):
    with pytest.raises(ParseError) as e:
        parse(text)
    assert str(e.value).startswith(prefix)


def evaluate(expr_sql: str, row: dict, columns: dict | None = None):
    query = parse(f"SELECT {expr_sql} FROM s EMIT CHANGES;")[0].node
    c = Compiler(columns or {"A": ("INTEGER",), "S": ("STRING",), "D": ("DOUBLE",)})
    return c.compile(query.items[0][1])(row)


@pytest.mark.parametrize("expr, row, expected", [
    ("A + 1", {"A": 1}, 2),
    ("A + 1", {"A": None}, None),
    # binary-comparison.json "is distinct from": NULL is a value there
    ("A IS DISTINCT FROM 1", {"A": None}, True), ("A IS NOT DISTINCT FROM 1", {"A": None}, False),
    ("A IS NOT DISTINCT FROM A", {"A": None}, True), ("A IS DISTINCT FROM 2", {"A": 2}, False),
    ("A / 0", {"A": 7}, None),
    ("-7 / 2", {}, -3),
    ("-7 % 3", {}, -1),
    ("A > 1 AND S IS NULL", {"A": 2, "S": None}, True),
    ("A > 1 OR S = 'x'", {"A": None, "S": "x"}, True),
    # a comparison with a NULL side is false in ksqlDB (date.json / decimal.json "equal - ...": NULL = x is false)
    ("A > 1 AND S = 'x'", {"A": None, "S": "x"}, False),
    ("NOT (A = 1)", {"A": None}, True),
    ("A NOT BETWEEN 1 AND 3", {"A": None}, True),
    ("S LIKE 'ab%'", {"S": "abc"}, True),
    ("A BETWEEN 1 AND 3", {"A": 3}, True),
    ("A NOT IN (1, 2)", {"A": 3}, True),
    ("CASE WHEN A = 1 THEN 'one' WHEN A = 2 THEN 'two' ELSE 'many' END", {"A": 2}, "two"),
    ("CAST(A AS STRING) || '!'", {"A": 5}, "5!"),
    ("SUBSTRING(S, 2, 3)", {"S": "abcdef"}, "bcd"),
    ("UCASE(S)", {"S": None}, None),
    ("ROUND(D, 1)", {"D": 2.25}, 2.3),
    ("ROUND(D)", {"D": 2.5}, 3),
    ("COALESCE(S, 'none')", {"S": None}, "none"),
    ("LEN(S)", {"S": "abc"}, 3),
    ("SPLIT(S, ',')[2]", {"S": "a,b,c"}, "b"),
    ("TIMESTAMPTOSTRING(A, 'yyyy-MM-dd HH:mm:ss')", {"A": 1_600_000_000_000}, "2020-09-13 12:26:40"),
    ("EXTRACTJSONFIELD(S, '$.a.b')", {"S": '{"a": {"b": "x"}}'}, "x"),
])
def test_expressions_with_ksqldb_null_rules(expr, row, expected):
    assert evaluate(expr, row) == expected


def test_geo_distance_on_ksqldb_sphere():
    # a great circle on a sphere of 6371 km (3959 miles), as ksqlDB's GEO_DISTANCE: one degree of the equator
    assert round(evaluate("GEO_DISTANCE(0.0, 0.0, 0.0, 1.0)", {}), 3) == 111.195
    assert round(evaluate("GEO_DISTANCE(0.0, 0.0, 0.0, 1.0, 'MI')", {}), 3) == 69.098


@pytest.mark.parametrize("expr, message", [
    ("NOPE + 1", "Column 'NOPE' cannot be resolved."),
    ("S > 1", "Cannot compare S (STRING) to 1 (INTEGER) with GREATER_THAN."),
    ("TRUE + 1", "Error processing expression: (true + 1). Unsupported arithmetic types. BOOLEAN INTEGER"),
    ("NO_SUCH_FN(A)", "Can't find any functions with the name 'NO_SUCH_FN'"),
    ("UCASE(S, S)", "Function 'ucase' does not accept parameters (STRING, STRING)."),
])
def test_expression_errors(expr, message):
    with pytest.raises(SqlError) as e:
        evaluate(expr, {})
    assert message in str(e.value)


def test_formats_round_trip_and_coerce():
    cols = [("ID", ("STRING",)), ("N", ("INTEGER",)), ("D", ("DOUBLE",))]
    assert formats.deserialize("JSON", b'{"id": 5, "n": "7", "d": 1}', cols) == {"ID": "5", "N": 7, "D": 1.0}
    assert formats.serialize("JSON", {"ID": "a", "N": 1, "D": 2.5}, cols) == b'{"ID":"a","N":1,"D":2.5}'
    assert formats.deserialize("DELIMITED", b"a,1,2.5", cols) == {"ID": "a", "N": 1, "D": 2.5}
    assert formats.serialize("DELIMITED", {"ID": "a,b", "N": None, "D": 2.5}, cols) == b'"a,b",,2.5'
    assert formats.deserialize("KAFKA", struct.pack(">i", 42), [("K", ("INTEGER",))]) == {"K": 42}
    assert formats.key_serialize("KAFKA", {"K": "sf"}, [("K", ("STRING",))]) == b"sf"
    assert formats.key_serialize("JSON", {"K": "sf"}, [("K", ("STRING",))]) == b'"sf"'
    with pytest.raises(formats.SerdeError):
        formats.deserialize("JSON", b"{not json", cols)
    with pytest.raises(formats.SerdeError):
        formats.deserialize("DELIMITED", b"a,1", cols)


def test_delimited_written_as_ksqldbs_commons_csv():
    # date.json "DELIMITED in/out" and datesub.json "subtracts": a first field not starting with a letter or digit
    # is quoted (commons-csv 1.4); decimal.json "DELIMITED should not trim trailing zeros"; BOOLEAN as `true`
    cols = [("D", ("DATE",)), ("X", ("DECIMAL", 6, 4)), ("B", ("BOOLEAN",)), ("N", ("INTEGER",))]
    assert formats.serialize("DELIMITED", {"D": -10, "X": 10.0, "B": True, "N": -5}, cols) == b'"-10",10.0000,true,-5'
    assert formats.serialize("DELIMITED", {"D": 10, "X": None, "B": False, "N": 1}, cols) == b"10,,false,1"


@pytest.mark.parametrize("expr, expected", [
    # date.json "casting - string to date": a year and month is its first day; text that is no date is NULL
    ("CAST('1970-01' AS DATE)", 0), ("CAST('1969-12-31' AS DATE)", -1), ("CAST('foo' AS DATE)", None),
    # cast.json "double to decimal", "integer to decimal": half up at the scale, NULL when it does not fit
    ("CAST(0.99 AS DECIMAL(2,1))", Decimal("1.0")), ("CAST(10 AS DECIMAL(2,1))", None),
        ("CAST('0.10' AS DECIMAL(2,1))", Decimal("0.1")),
    # cast.json "decimal to other": a DECIMAL's text keeps its scale
    ("CAST(CAST(0 AS DECIMAL(3,2)) AS STRING)", "0.00"),
])
def test_casts_to_date_and_decimal(expr, expected):
    assert evaluate(expr, {}) == expected
