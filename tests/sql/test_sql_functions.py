"""ksqlDB's scalar, lambda and table functions evaluated in process (no server): results, NULL handling, result
types and errors, with expected values from ksqlDB's docs and its functional tests
(ksqldb-functional-tests/src/test/resources/query-validation-tests/<file>.json "<test name>")."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from brook.sql.expressions import Compiler, SqlError
from brook.sql.functions import SCALARS, TABLE_FUNCTIONS
from brook.sql.parser import parse, type_str

COLUMNS = {"I": ("INTEGER",), "L": ("BIGINT",), "D": ("DOUBLE",), "S": ("STRING",), "B": ("BYTES",),
           "NUMBERS": ("ARRAY", ("INTEGER",)), "WORDS": ("ARRAY", ("STRING",)),
           "M": ("MAP", ("STRING",), ("INTEGER",)), "AM": ("MAP", ("STRING",), ("ARRAY", ("INTEGER",))),
           "T": ("TIMESTAMP",), "DT": ("DATE",), "TM": ("TIME",),
           "PEOPLE": ("ARRAY", ("STRUCT", [("D", ("INTEGER",)), ("C", ("STRING",))]))}
ROW = {"I": -7, "L": 5_000_000_000, "D": 1.5, "S": "Hello World", "B": b"\x00\x00\x07\xe5",
       "NUMBERS": [3, 6, 8], "WORDS": ["apple", "Banana", None, "cherry"], "M": {"a": 1, "abcd": 10, "xyz": 5},
       "AM": {"a": [1, 2], "bb": [10, 20]}, "T": 1_600_000_000_123, "DT": 18993, "TM": 46_800_000,
       "PEOPLE": [{"D": 1, "C": "a"}, {"D": 2, "C": None}]}


def compiled(sql: str) -> tuple:
    expr = parse(f"SELECT {sql} FROM s EMIT CHANGES;")[0].node.items[0][1]
    c = Compiler(COLUMNS)
    return c.type_of(expr), c.compile(expr)


def evaluate(sql: str, row: dict | None = None):
    return compiled(sql)[1](ROW if row is None else row)


@pytest.mark.parametrize("sql, expected", [
    # math.json "round": halves up; ROUND(DOUBLE) is a BIGINT, with a scale a DOUBLE
    ("ROUND(1.5)", 2), ("ROUND(-2.5)", -2), ("ROUND(1.25, 1)", Decimal("1.30")), ("ROUND(1.7, -1)", 0.0),
    ("TRUNC(12345.67, -3)", 12000.0), ("TRUNC(1.7)", 1), ("TRUNC(1.77, 1)", Decimal("1.70")),
    ("CEIL(1.1)", 2.0), ("FLOOR(I)", -7), ("ABS(I)", 7), ("SIGN(D)", 1),
    ("LN(1)", 0.0), ("LOG(100)", math.log(100)), ("LOG(2, 8)", 3.0), ("EXP(0)", 1.0), ("POWER(15, -1)", 1 / 15),
    ("CBRT(-8)", -2.0), ("SQRT(4)", 2.0), ("PI()", math.pi), ("DEGREES(PI())", 180.0), ("RADIANS(180)", math.pi),
    ("ATAN2(0, 1)", 0.0), ("COS(0)", 1.0), ("SINH(0)", 0.0), ("TANH(0)", 0.0),
    ("GREATEST(1.5, 2.5, NULL)", 2.5), ("LEAST(3, NULL, 2)", 2), ("COALESCE(NULL, I, 3)", -7),
    ("IFNULL(NULL, 'x')", "x"), ("NULLIF(I, -7)", None),
    # least.json "test decimal widening", math.json "round with large DECIMAL values": exact, any digits
    ("LEAST(CAST(1234567.89 AS DECIMAL(9,2)), CAST(0.123456 AS DECIMAL(7,6)))", Decimal("0.123456")),
    ("ROUND(CAST('12345678987654321.2345678987654321' AS DECIMAL(33,16)), -2)",
     Decimal("12345678987654300.0000000000000000")),
    # past Python's default 28 digits: ABS and negation are BigDecimal's, exact
    ("ABS(CAST('-1234567890123456789012345678901234.5678' AS DECIMAL(38,4)))",
     Decimal("1234567890123456789012345678901234.5678")),
    ("-CAST('1234567890123456789012345678901234.5678' AS DECIMAL(38,4))",
     Decimal("-1234567890123456789012345678901234.5678")),
])
def test_math(sql, expected):
    assert evaluate(sql) == expected


@pytest.mark.parametrize("sql", ["LN(-1)", "SQRT(-1)", "ACOS(2)", "ASIN(-1.1)", "LOG(1, 5)"])
def test_math_gives_nan_outside_the_domain(sql):
    # math.json "ln", "sqrt", "acos edge cases", "asin edge cases"; the docs for LOG's base 1
    assert math.isnan(evaluate(sql))


def test_math_infinities_and_nulls():
    # math.json "ln" (-Infinity at 0), "cot edge cases" (Infinity at 0), "log-base-10"; POWER overflows to Infinity
    assert evaluate("LN(0)") == -math.inf and evaluate("COT(0)") == math.inf and evaluate("LOG(0)") == -math.inf
    assert evaluate("POWER(10, 400)") == math.inf
    for fn in ("ABS", "CEIL", "EXP", "SIN", "ROUND", "SIGN", "CBRT"):
        assert evaluate(f"{fn}(CAST(NULL AS DOUBLE))") is None, fn


@pytest.mark.parametrize("sql, expected", [
    ("INSTR('CORPORATE FLOOR', 'OR')", 2), ("INSTR('CORPORATE FLOOR', 'OR', 3)", 5),
    ("INSTR('CORPORATE FLOOR', 'OR', 3, 2)", 14), ("INSTR('CORPORATE FLOOR', 'OR', -3)", 5),
    ("INSTR('CORPORATE FLOOR', 'OR', -3, 2)", 2), ("INSTR('CORPORATE FLOOR', 'MISSING')", 0),
    ("LPAD('Foo', 7, 'Bar')", "BarBFoo"), ("LPAD('Foo', 2, 'Bar')", "Fo"), ("LPAD('123', 5, '0')", "00123"),
    ("RPAD('Foo', 7, 'Bar')", "FooBarB"), ("RPAD('', 2, 'Bar')", "Ba"), ("LPAD('Foo', -1, 'x')", None),
    ("RPAD('Foo', 5, '')", None),
    ("MASK('My Test $123')", "Xx-Xxxx--nnn"), ("MASK('My Test $123', '*', NULL, '1', NULL)", "*y *est $111"),
    ("MASK_KEEP_LEFT('My Test $123', 4)", "My Txxx--nnn"), ("MASK_KEEP_RIGHT('My Test $123', 4)", "Xx-Xxxx-$123"),
    ("MASK_LEFT('My Test $123', 4)", "Xx-Xest $123"), ("MASK_RIGHT('My Test $123', 4)", "My Test -nnn"),
    ("CHR(75)", "K"), ("CHR(22909)", "好"), ("CHR('\\u597d')", "好"), ("CHR(-1)", None), ("CHR('bogus')", None),
    ("CONCAT('a', NULL, 'b')", "ab"), ("CONCAT_WS(', ', 'apple', 'banana', NULL, 'date')", "apple, banana, date"),
    ("CONCAT_WS(NULL, 'a')", None), ("ELT(2, 'a', 'b')", "b"), ("ELT(3, 'a', 'b')", None),
    ("FIELD('b', 'a', 'b')", 2), ("FIELD(NULL, 'a')", 0),
    ("SUBSTRING('stream', 1, 4)", "stre"), ("SUBSTRING('some_string', 6)", "string"), ("SUBSTRING('short', 6)", ""),
    ("SUBSTRING('stream', -3)", "eam"), ("SUBSTRING('stream', 0, 2)", "st"), ("SUBSTRING(S, NULL)", None),
    ("INITCAP('the   quick BROWN')", "The   Quick Brown"), ("TRIM('  a b  ')", "a b"), ("LEN(S)", 11),
    ("REPLACE(S, 'o', '0')", "Hell0 W0rld"), ("SPLIT('a,b,,c', ',')", ["a", "b", "", "c"]),
    ("SPLIT('abc', '')", ["a", "b", "c"]),
    ("SPLIT_TO_MAP('apple:green/banana:yellow/cherry:red', '/', ':')",
     {"apple": "green", "banana": "yellow", "cherry": "red"}),
    ("SPLIT_TO_MAP('apple:green/banana:yellow', '&&', ':')", {"apple": "green/banana"}),
    ("SPLIT_TO_MAP('apple:green//banana:yellow/', '/', ':')", {"apple": "green", "banana": "yellow"}),
    ("SPLIT_TO_MAP('a:b', '', ':')", None),
    ("MD5('hash me')", "17b31dce96b9d6c6d0a6ba95f47796fb"),
    ("REGEXP_EXTRACT('(.*) (.*)', 'hello there', 2)", "there"), ("REGEXP_EXTRACT('x', 'abc')", None),
    ("REGEXP_EXTRACT_ALL('(\\w+) (\\w+)', 'hello there nice day', 2)", ["there", "day"]),
    ("REGEXP_REPLACE('aaa bbb', 'a+b*', 'X$0')", "Xaaa bbb"),
    ("REGEXP_SPLIT_TO_ARRAY('a1b22c', '\\d+')", ["a", "b", "c"]),
    ("REGEXP_SPLIT_TO_ARRAY('1a1', '1')", ["", "a", ""]),
    # encode.json "encode hex", "encode ascii", "encode null"
    ("ENCODE('4578616d706C6521', 'hex', 'base64')", "RXhhbXBsZSE="), ("ENCODE('Example!', 'ascii', 'hex')",
                                                                      "4578616d706c6521"),
    ("ENCODE('RXhhbXBsZSE=', 'base64', 'utf8')", "Example!"), ("ENCODE('RXhhbXBsZSE=', 'base64', 'null')", None),
    ("INT_FROM_BYTES(B)", 2021), ("INT_FROM_BYTES(B, 'LITTLE_ENDIAN')", -452526080),
    ("BIGINT_FROM_BYTES(TO_BYTES('AAAAASoF8gA=', 'base64'))", 5_000_000_000),
    ("DOUBLE_FROM_BYTES(TO_BYTES('QICm/ZvJ9YI=', 'base64'))", 532.8738323), ("INT_FROM_BYTES(TO_BYTES('AA==',"
                                                                            " 'base64'))", None),
    ("FROM_BYTES(TO_BYTES('AAAH5Q==', 'base64'), 'hex')", "000007e5"), ("LEN(B)", 4),
    # url.json
    ("URL_ENCODE_PARAM('?foo $bar')", "%3Ffoo+%24bar"), ("URL_DECODE_PARAM('%3Ffoo+%24bar')", "?foo $bar"),
    ("URL_EXTRACT_FRAGMENT('http://www.test.com/?query#fragment')", "fragment"),
    ("URL_EXTRACT_FRAGMENT('http://www.nofragment.com')", None),
    ("URL_EXTRACT_HOST('http://test@confluent.io:8080')", "confluent.io"),
    ("URL_EXTRACT_PARAMETER('http://www.test.com/?one=a&two=b&three', 'two')", "b"),
    ("URL_EXTRACT_PARAMETER('http://test.com?a%20b=c%20d', 'a b')", "c d"),
    ("URL_EXTRACT_PATH('http://test@confluent.io:8080/nested/path?query&jobs')", "/nested/path"),
    ("URL_EXTRACT_PATH('http://www.test.com?query#fragment')", ""),
    ("URL_EXTRACT_PORT('http://test@confluent.io')", None), ("URL_EXTRACT_PORT('http://localhost:8080/p')", 8080),
    ("URL_EXTRACT_PROTOCOL('www.confluent.io')", None), ("URL_EXTRACT_QUERY('http://test.com?a=foo%20bar&b=baz')",
                                                         "a=foo bar&b=baz"),
])
def test_strings_bytes_and_urls(sql, expected):
    assert evaluate(sql) == expected


def test_uuid():
    import uuid

    assert uuid.UUID(evaluate("UUID()")).version == 4 and evaluate("UUID()") != evaluate("UUID()")
    assert evaluate("UUID(TO_BYTES('ER6O+fqtQ9KhtN5qw7vvQw==', 'base64'))") == "111e8ef9-faad-43d2-a1b4-de6ac3bbef43"


@pytest.mark.parametrize("sql, expected", [
    # format-date.json "date to string"; parse-time.json "string to time"; convert-tz.json; timestampadd.json
    ("FORMAT_DATE(DT, 'dd-MMM-yyyy')", "01-Jan-2022"), ("FORMAT_DATE(FROM_DAYS(17662), 'yyyy-MM-dd')", "2018-05-11"),
    ("PARSE_DATE('2021-10-11', 'yyyy-MM-dd')", 18911), ("UNIX_DATE(PARSE_DATE('11/05/2019', 'dd/MM/yyyy'))", 18027),
    ("PARSE_TIME('00:01:05Lit', 'HH:mm:ss''Lit''')", 65000), ("PARSE_TIME('11/05/19', 'HH/mm/ss')", 39919000),
    ("PARSE_TIME('01:00:00 PM', 'hh:mm:ss a')", 46800000), ("FORMAT_TIME(TM, 'HH:mm:ss.SSS')", "13:00:00.000"),
    ("FORMAT_TIMESTAMP(T, 'yyyy-MM-dd''T''HH:mm:ss.SSSX')", "2020-09-13T12:26:40.123Z"),
    ("FORMAT_TIMESTAMP(T, 'yyyy-MM-dd HH:mm:ss', 'America/Los_Angeles')", "2020-09-13 05:26:40"),
    ("FORMAT_TIMESTAMP(T, 'EEE dd MMMM yy hh:mm a XXX', '+0530')", "Sun 13 September 20 05:56 PM +05:30"),
    ("PARSE_TIMESTAMP('2021-06-30 12:18:39.446', 'yyyy-MM-dd HH:mm:ss.SSS')", 1625055519446),
    ("PARSE_TIMESTAMP('2021-06-30 12:18', 'yyyy-MM-dd HH:mm', 'America/New_York')", 1625069880000),
    ("PARSE_TIMESTAMP('2021-06-30T12:18:00+0200', 'yyyy-MM-dd''T''HH:mm:ssZ')", 1625048280000),
    ("TIMESTAMPADD(MILLISECONDS, -5, T)", 1_600_000_000_118), ("TIMESTAMPSUB(DAYS, 1, T)", 1_599_913_600_123),
    ("DATEADD(DAYS, 10, DT)", 19003), ("DATESUB(HOURS, 48, DT)", 18991), ("TIMEADD(HOURS, 12, TM)", 3_600_000),
    ("TIMESUB(MINUTES, 1, TM)", 46_740_000), ("TIMESTAMPADD(SECONDS, CAST(NULL AS INT), T)", None),
    ("CONVERT_TZ(FROM_UNIXTIME(100), '+0200', '+0500')", 10_800_100),
    ("CONVERT_TZ(FROM_UNIXTIME(1589234313000), 'America/Los_Angeles', 'America/New_York')", 1589245113000),
    ("UNIX_TIMESTAMP(T)", 1_600_000_000_123), ("FROM_UNIXTIME(L)", 5_000_000_000),
    ("TIMESTAMPTOSTRING(1600000000000, 'yyyy-MM-dd HH:mm:ss')", "2020-09-13 12:26:40"),
    ("STRINGTOTIMESTAMP('2020-09-13 12:26:40', 'yyyy-MM-dd HH:mm:ss')", 1_600_000_000_000),
    ("DATETOSTRING(18993, 'yyyy-MM-dd')", "2022-01-01"), ("STRINGTODATE('2022-01-01', 'yyyy-MM-dd')", 18993),
])
def test_dates_and_times(sql, expected):
    assert evaluate(sql) == expected


def test_dates_and_times_types_and_clock():
    import time

    assert compiled("PARSE_DATE('2021-10-11', 'yyyy-MM-dd')")[0] == ("DATE",)
    assert compiled("TIMEADD(HOURS, 1, TM)")[0] == ("TIME",)
    assert compiled("FROM_UNIXTIME(L)")[0] == ("TIMESTAMP",)
    assert compiled("STRINGTOTIMESTAMP('x', 'y')")[0] == ("BIGINT",)
    assert abs(evaluate("UNIX_TIMESTAMP()") - time.time() * 1000) < 60_000
    assert abs(evaluate("UNIX_DATE()") - time.time() // 86400) <= 1


@pytest.mark.parametrize("sql, expected", [
    # the docs' examples and json_concat.json "concat 2 JSON arguments", json_records.json, json_items.json
    ("IS_JSON_STRING('[1, 2, 3]')", True), ("IS_JSON_STRING('\"abc\"')", True), ("IS_JSON_STRING('null')", True),
    ("IS_JSON_STRING('')", False), ("IS_JSON_STRING('abc')", False), ("IS_JSON_STRING(NULL)", False),
    ("JSON_ARRAY_LENGTH('[1, [1, [2]], 3]')", 3), ("JSON_ARRAY_LENGTH('{}')", None),
    ("JSON_ARRAY_LENGTH('abc')", None), ("JSON_ARRAY_CONTAINS('[1, 2, 3]', 3)", True),
    ("JSON_ARRAY_CONTAINS('{\"a\": 3}', 3)", False), ("JSON_ARRAY_CONTAINS('[\"x\", true]', 'x')", True),
    ("JSON_CONCAT('{\"a\": 1}', '{\"b\": 2}')", '{"a":1,"b":2}'),
    ("JSON_CONCAT('{\"a\": {\"5\": 6}}', '{\"a\": {\"3\": 4}}')", '{"a":{"3":4}}'),
    ("JSON_CONCAT('[1, [2]]', '[[[3]], [[[4]]]]')", "[1,[2],[[3]],[[[4]]]]"), ("JSON_CONCAT('null', 'null')",
                                                                              "[null,null]"),
    ("JSON_CONCAT('[1, 2]', '{\"a\": 1}')", '[1,2,{"a":1}]'), ("JSON_CONCAT('1', '2')", "[1,2]"),
    ("JSON_CONCAT('abc', '[1]')", None), ("JSON_CONCAT(NULL, '[1]')", None),
    ("JSON_KEYS('{\"a\": \"abc\", \"b\": { \"c\": \"a\" }, \"d\": 1}')", ["a", "b", "d"]),
    ("JSON_KEYS('[]')", None), ("JSON_KEYS('{}')", []),
    ("JSON_RECORDS('{\"a\": \"abc\", \"b\": { \"c\": \"a\" }, \"d\": 1}')", {"a": '"abc"', "b": '{"c":"a"}',
                                                                                "d": "1"}),
    ("JSON_RECORDS('{\"Red\": 3, \"Green\": 5}')['Red']", "3"), ("JSON_RECORDS('123')", None),
    ("JSON_ITEMS('[{\"type\": \"A\"}, 2]')", ['{"type":"A"}', "2"]), ("JSON_ITEMS('abc')", None),
    ("EXTRACTJSONFIELD('{\"log\": {\"cloud\": \"gcp836Csd\", \"instance\": 4}}', '$.log.cloud')", "gcp836Csd"),
    ("EXTRACTJSONFIELD('{\"log\": {\"instance\": 4}}', '$.log.instance')", "4"),
    # to_json_string.json and the docs' examples
    ("TO_JSON_STRING(1)", "1"), ("TO_JSON_STRING(15.3)", "15.3"), ("TO_JSON_STRING('abc')", '"abc"'),
    ("TO_JSON_STRING(NULL)", "null"), ("TO_JSON_STRING(ARRAY[1, 2, 3])", "[1,2,3]"),
    ("TO_JSON_STRING(STRUCT(id := 1, name := 'A'))", '{"ID":1,"NAME":"A"}'),
    ("TO_JSON_STRING(MAP('c' := 2, 'd' := 4))", '{"c":2,"d":4}'),
    ("TO_JSON_STRING(ARRAY[STRUCT(json_key := 1, json_value := MAP('c' := 2, 'd' := 3))])",
     '[{"JSON_KEY":1,"JSON_VALUE":{"c":2,"d":3}}]'),
    ("TO_JSON_STRING(FROM_UNIXTIME(60220000000))", '"1971-11-28T23:46:40.000"'),
    ("TO_JSON_STRING(PARSE_DATE('2021-10-11', 'yyyy-MM-dd'))", '"2021-10-11"'),
    ("TO_JSON_STRING(PARSE_TIME('13:25', 'HH:mm'))", '"13:25"'),
])
def test_json(sql, expected):
    assert evaluate(sql) == expected


@pytest.mark.parametrize("sql, expected", [
    # the docs' examples; array-min-max-sort.json; arrayjoin.json; slice.json "sublist for string list"
    ("ARRAY_CONCAT(ARRAY[1, 2, 3, 1, 2], ARRAY[4, 1])", [1, 2, 3, 1, 2, 4, 1]),
    ("ARRAY_CONCAT(NULL, ARRAY[4])", [4]), ("ARRAY_CONCAT(CAST(NULL AS ARRAY<INT>), NULL)", None),
    ("ARRAY_CONTAINS(ARRAY[1, 2, 3], 3)", True), ("ARRAY_CONTAINS(NUMBERS, 4)", False),
    ("ARRAY_DISTINCT(ARRAY['apple', 'apple', NULL, 'cherry'])", ["apple", None, "cherry"]),
    ("ARRAY_EXCEPT(ARRAY['apple', 'apple', NULL, 'cherry'], ARRAY['cherry'])", ["apple", None]),
    ("ARRAY_INTERSECT(ARRAY[1, 2, 3, 1, 2], ARRAY[2, 1])", [1, 2]),
    ("ARRAY_UNION(ARRAY['apple', 'apple', NULL, 'cherry'], ARRAY['cherry'])", ["apple", None, "cherry"]),
    ("ARRAY_JOIN(ARRAY[TRUE, NULL, FALSE])", "true,null,false"), ("ARRAY_JOIN(ARRAY[1.23, -23.42], '#')",
                                                                   "1.23#-23.42"),
    ("ARRAY_JOIN(ARRAY['a', 'b'], NULL)", "ab"), ("ARRAY_LENGTH(NUMBERS)", 3),
    ("ARRAY_MAX(ARRAY[-1, 2, NULL, 0])", 2), ("ARRAY_MIN(ARRAY['Foo', 'Bar', NULL, 'baz'])", "Bar"),
    ("ARRAY_MAX(ARRAY['Foo', 'Bar', NULL, 'baz'])", "baz"), ("ARRAY_MIN(ARRAY[CAST(NULL AS INT)])", None),
    ("ARRAY_REMOVE(ARRAY[1, 2, 3, 2, 1], 2)", [1, 3, 1]), ("ARRAY_REMOVE(WORDS, NULL)", ["apple", "Banana", "cherry"]),
    ("ARRAY_SORT(ARRAY['Foo', 'Bar', NULL, 'baz'])", ["Bar", "Foo", "baz", None]),
    ("ARRAY_SORT(ARRAY[FALSE, NULL, TRUE], 'DESC')", [True, False, None]),
    # array.json "GENERATE_SERIES": without a step a series may count down
    ("GENERATE_SERIES(1, 10, 3)", [1, 4, 7, 10]), ("GENERATE_SERIES(5, 3)", [5, 4, 3]),
    ("GENERATE_SERIES(5, 3, 1)", None),
    ("SLICE(ARRAY['a', 'b', 'c', 'd'], 2, 3)", ["b", "c"]),
    ("ENTRIES(M, TRUE)", [{"K": "a", "V": 1}, {"K": "abcd", "V": 10}, {"K": "xyz", "V": 5}]),
    ("AS_MAP(ARRAY['a', 'b'], ARRAY[1])", {"a": 1, "b": None}),
    ("MAP_KEYS(MAP('apple' := 10, 'banana' := 20))", ["apple", "banana"]),
    ("MAP_VALUES(MAP('apple' := 10, 'banana' := 20))", [10, 20]),
    ("MAP_UNION(MAP('apple' := 10, 'banana' := 20), MAP('apple' := 50))", {"apple": 50, "banana": 20}),
    ("MAP('a' := 1)['a']", 1), ("ARRAY[1, 2, 3][-1]", 3), ("STRUCT(a := 1, b := 'x')->b", "x"),
    # cube.json "cube two int columns"
    ("CUBE_EXPLODE(ARRAY[1, NULL])", [[None, None], [1, None]]),
    # explode.json "explode different types": each DECIMAL element as it is (the rows, not one DECIMAL)
    ("EXPLODE(ARRAY[123.456, 456.123])", [Decimal("123.456"), Decimal("456.123")]),
])
def test_collections(sql, expected):
    assert evaluate(sql) == expected


@pytest.mark.parametrize("sql, expected, sql_type", [
    # transform-array.json "apply transform lambda function to array", "capitalize all array elements"
    ("TRANSFORM(NUMBERS, x => x + 5)", [8, 11, 13], "ARRAY<INTEGER>"),
    ("TRANSFORM(WORDS, x => UCASE(x))", ["APPLE", "BANANA", None, "CHERRY"], "ARRAY<STRING>"),
    ("TRANSFORM(NUMBERS, x => CASE WHEN x > 5 THEN 'above 5' ELSE 'TOO LOW' END)",
     ["TOO LOW", "above 5", "above 5"], "ARRAY<STRING>"),
    # transform-array.json "transform array of struct"
    ("TRANSFORM(PEOPLE, x => STRUCT(Q := x->d + 5, P := x->c + 'h'))", [{"Q": 6, "P": "ah"}, {"Q": 7, "P": None}],
     "ARRAY<STRUCT<`Q` INTEGER, `P` STRING>>"),
    ("TRANSFORM(NUMBERS, x => STRUCT(q := x + 5))", [{"Q": 8}, {"Q": 11}, {"Q": 13}], "ARRAY<STRUCT<`Q` INTEGER>>"),
    # transform-map.json "capitalize all keys and round values in transformed map"
    # (`2.5` is a DECIMAL(2, 1) literal: INTEGER * DECIMAL(2, 1) is DECIMAL(13, 1), as ksqlDB's SqlDecimal.multiply)
    ("TRANSFORM(M, (k, v) => UCASE(k), (k, v) => v * 2.5)", {"A": 2.5, "ABCD": 25.0, "XYZ": 12.5},
     "MAP<STRING, DECIMAL(13, 1)>"),
    ("TRANSFORM(AM, (x, y) => x + '_test', (k, v) => ARRAY_MIN(v) + 1)", {"a_test": 2, "bb_test": 11},
     "MAP<STRING, INTEGER>"),
    # filter.json "apply lambda filter to int array", "apply filter lambda function to int map"
    ("FILTER(NUMBERS, x => x > 5)", [6, 8], "ARRAY<INTEGER>"),
    ("FILTER(WORDS, x => INSTR(x, 'an') > 0)", ["Banana"], "ARRAY<STRING>"),
    ("FILTER(M, (x, y) => LEN(x) * 5 > 15 AND y % 5 = 0)", {"abcd": 10}, "MAP<STRING, INTEGER>"),
    # reduce-array.json "reduce an array", "reduce a string array"; reduce-map.json "apply reduce lambda function
    # to map"
    ("REDUCE(NUMBERS, 2, (s, x) => s + x)", 19, "INTEGER"),
    ("REDUCE(WORDS, '', (state, x) => CONCAT(state, x))", "appleBananacherry", "STRING"),
    ("REDUCE(M, 0, (s, k, v) => CASE WHEN LEN(k) > 3 THEN s + v ELSE s - v END)", 4, "INTEGER"),
    ("REDUCE(NUMBERS, CAST(NULL AS INT), (s, x) => s + x)", None, "INTEGER"),
    # complex-lambda.json "transform a map with array values": nested lambdas, upper-case parameter names
    ("TRANSFORM(TRANSFORM(AM, (x, y) => x, (x, y) => FILTER(y, z => z < 5)), (X, Y) => UCASE(x), "
     "(k, v) => ARRAY_MAX(v))", {"A": 2, "BB": None}, "MAP<STRING, INTEGER>"),
    ("TRANSFORM(NUMBERS, x => REDUCE(NUMBERS, x, (s, x) => s + x))", [20, 23, 25], "ARRAY<INTEGER>"),
    ("TRANSFORM(CAST(NULL AS ARRAY<INT>), x => x)", None, "ARRAY<INTEGER>"),
    # a lambda parameter shadows a column of the same name
    ("TRANSFORM(NUMBERS, i => i * 2)", [6, 12, 16], "ARRAY<INTEGER>"),
    # transform-array.json "apply transform lambda function to array": arithmetic on a NULL element fails the
    # call; transform-map.json "transformed map with duplicate keys" too
    ("TRANSFORM(ARRAY[5, CAST(NULL AS INT)], x => x + 5)", None, "ARRAY<INTEGER>"),
    ("TRANSFORM(M, (k, v) => 'same', (k, v) => v)", None, "MAP<STRING, INTEGER>"),
])
def test_lambdas(sql, expected, sql_type):
    t, fn = compiled(sql)
    assert fn(ROW) == expected and type_str(t) == sql_type


def test_map_and_struct_stay_column_names():
    # reduce-map.json "apply reduce lambda function to map" reads a column named `map`
    columns = {"MAP": ("MAP", ("STRING",), ("INTEGER",)), "STRUCT": ("STRUCT", [("X", ("INTEGER",))])}
    query = parse("SELECT REDUCE(map, 0, (s, k, v) => s + v), map['a'], struct->x, MAP('k' := 1) FROM s;")[0].node
    c = Compiler(columns)
    row = {"MAP": {"a": 1, "bb": 2}, "STRUCT": {"X": 7}}
    assert [c.compile(item[1])(row) for item in query.items] == [3, 1, 7, {"k": 1}]


@pytest.mark.parametrize("sql, message", [
    # timestampadd.json "throws on incorrect type" (ksqlDB prints the name its UDF declares)
    ("TIMESTAMPADD(T, 5, T)", "Function 'timestampadd' does not accept parameters (TIMESTAMP, INTEGER, TIMESTAMP)."),
    ("UCASE(I)", "Function 'ucase' does not accept parameters (INTEGER)."),
    ("ARRAY_LENGTH(S)", "Function 'ARRAY_LENGTH' does not accept parameters (STRING)."),
    ("SQRT('x')", "Function 'sqrt' does not accept parameters (STRING)."),
    ("TRANSFORM(NUMBERS, (x, y) => x)", "Function 'transform' does not accept parameters (ARRAY<INTEGER>, LAMBDA)."),
    ("TRANSFORM(M, (k, v) => k)", "Function 'transform' does not accept parameters (MAP<STRING, INTEGER>, LAMBDA)."),
    ("FILTER(NUMBERS, x => x + 1)", "Function 'filter' does not accept parameters (ARRAY<INTEGER>, LAMBDA)."),
    ("REDUCE(NUMBERS, (s, x) => s)", "Function 'reduce' does not accept parameters (ARRAY<INTEGER>, LAMBDA)."),
    ("TRANSFORM(S, x => x)", "Function 'transform' does not accept parameters (STRING, LAMBDA)."),
    ("ABS(x => x)", "Lambdas are only allowed as arguments of TRANSFORM, FILTER and REDUCE."),
    ("TRANSFORM(NUMBERS, x => y)", "Column 'Y' cannot be resolved."),
])
def test_errors(sql, message):
    with pytest.raises(SqlError) as e:
        compiled(sql)
    assert str(e.value) == message


def test_a_failing_function_gives_null_not_an_error(caplog):
    # ksqlDB writes the error to its processing log and the column is NULL
    assert evaluate("GENERATE_SERIES(1, 5, 0)") is None
    assert evaluate("GEO_DISTANCE(37.4439, -122.1663, 51.5257, -0.1122, 'parsecs')") is None
    assert evaluate("PARSE_DATE('not a date', 'yyyy-MM-dd')") is None
    assert "GENERATE_SERIES step cannot be zero" in caplog.text and "units parameter must be one of" in caplog.text


def test_registry_covers_ksqldb_documented_functions_with_categories():
    documented = """ABS ACOS ASIN ATAN ATAN2 CBRT CEIL COS COSH COT DEGREES ENTRIES EXP FLOOR GENERATE_SERIES
    GEO_DISTANCE GREATEST LEAST LN LOG PI POWER RADIANS RANDOM ROUND SIGN SIN SINH SQRT TAN TANH TRUNC ARRAY_CONCAT
    ARRAY_CONTAINS ARRAY_DISTINCT ARRAY_EXCEPT ARRAY_INTERSECT ARRAY_JOIN ARRAY_LENGTH ARRAY_MAX ARRAY_MIN
    ARRAY_REMOVE ARRAY_SORT ARRAY_UNION AS_MAP ELT FIELD JSON_ARRAY_CONTAINS MAP_KEYS MAP_VALUES MAP_UNION SLICE
    FILTER REDUCE TRANSFORM CHR CONCAT CONCAT_WS ENCODE EXTRACTJSONFIELD FROM_BYTES IS_JSON_STRING JSON_ARRAY_LENGTH
    JSON_CONCAT JSON_KEYS JSON_RECORDS JSON_ITEMS TO_JSON_STRING INITCAP INSTR LCASE LEN LPAD MASK MASK_KEEP_LEFT
    MASK_KEEP_RIGHT MASK_LEFT MASK_RIGHT MD5 REPLACE REGEXP_EXTRACT REGEXP_EXTRACT_ALL REGEXP_REPLACE
    REGEXP_SPLIT_TO_ARRAY RPAD SPLIT SPLIT_TO_MAP SUBSTRING TO_BYTES TRIM UCASE UUID BIGINT_FROM_BYTES
    DOUBLE_FROM_BYTES INT_FROM_BYTES COALESCE IFNULL NULLIF CONVERT_TZ DATEADD DATESUB FORMAT_DATE FORMAT_TIME
    FORMAT_TIMESTAMP FROM_DAYS FROM_UNIXTIME PARSE_DATE PARSE_TIME PARSE_TIMESTAMP TIMEADD TIMESUB TIMESTAMPADD
    TIMESTAMPSUB UNIX_DATE UNIX_TIMESTAMP URL_DECODE_PARAM URL_ENCODE_PARAM URL_EXTRACT_FRAGMENT URL_EXTRACT_HOST
    URL_EXTRACT_PARAMETER URL_EXTRACT_PATH URL_EXTRACT_PORT URL_EXTRACT_PROTOCOL URL_EXTRACT_QUERY DATETOSTRING
    STRINGTODATE STRINGTOTIMESTAMP TIMESTAMPTOSTRING EXPLODE CUBE_EXPLODE AS_VALUE""".split()
    assert sorted(set(documented) - set(SCALARS)) == [] and sorted(set(SCALARS) - set(documented)) == []
    assert set(TABLE_FUNCTIONS) == {"EXPLODE", "CUBE_EXPLODE"}
    categories = {n: f.category for n, f in SCALARS.items()}
    assert (categories["TRANSFORM"], categories["CUBE_EXPLODE"], categories["REGEXP_REPLACE"]) == (
        "LAMBDA", "TABLE", "REGULAR EXPRESSION")
    assert (categories["FORMAT_DATE"], categories["COALESCE"], categories["INT_FROM_BYTES"]) == (
        "DATE / TIME", "CONDITIONAL", "CONVERSIONS")
    assert (categories["GEO_DISTANCE"], categories["URL_EXTRACT_HOST"], categories["ENTRIES"]) == (
        "OTHER", "URL", "MAP")


@pytest.mark.parametrize("sql, expected", [
    # cast.json "array to string", "map to string", "struct to string": Java's text
    ("CAST(ARRAY[1, 3] AS STRING)", "[1, 3]"), ("CAST(MAP('this' := 1) AS STRING)", "{this=1}"),
    ("CAST(STRUCT(F0 := 1, `f1` := 3) AS STRING)", "Struct{F0=1,f1=3}"),
    # cast.json "array<bigint> to array<int>", "array<bigint> to array<string>", "struct to struct with different
    # schema"
    ("CAST(ARRAY[CAST(2147483648 AS BIGINT)] AS ARRAY<INT>)", [-2147483648]),
    ("CAST(ARRAY[1, 3] AS ARRAY<STRING>)", ["1", "3"]),
    ("CAST(STRUCT(F0 := 1, F1 := 3) AS STRUCT<F0 STRING, F3 INT>)", {"F0": "1", "F3": None}),
    ("CAST(MAP('k1' := MAP('k2' := '10')) AS MAP<STRING, MAP<STRING, INT>>)", {"k1": {"k2": 10}}),
    # the docs' CAST table: text to DATE, TIME, TIMESTAMP; TIMESTAMP to DATE and TIME; DATE to TIMESTAMP
    ("CAST('2021-10-11' AS DATE)", 18911), ("CAST('12:00:01' AS TIME)", 43_201_000),
    ("CAST('2021-06-30T12:18:39.446' AS TIMESTAMP)", 1625055519446), ("CAST(T AS DATE)", 18518),
    ("CAST(T AS TIME)", 44_800_123), ("CAST(DT AS TIMESTAMP)", 18993 * 86_400_000),
    ("CAST(T AS STRING)", "2020-09-13T12:26:40.123"), ("CAST('x' AS INT)", None),
    # create_array.json "construct a list from compatible mismatching elements" / "... struct elements";
    # create_map.json "create map from named tuples compatible mismatching types"
    ("ARRAY[NULL, 10, '2e1', 30]", [None, 10, 20, 30]),
    ("ARRAY[NULL, STRUCT(x := 30, y := 40), STRUCT(y := 30, z := 40)]",
     [None, {"X": 30, "Y": 40, "Z": None}, {"X": None, "Y": 30, "Z": 40}]),
    ("MAP('a' := TRUE, 'b' := 'true', 10 := 'no')", {"a": True, "b": True, "10": False}),
])
def test_casts_and_constructor_coercion(sql, expected):
    assert evaluate(sql) == expected


def test_refused_cast_and_bytes_in_json():
    from brook.sql import formats

    with pytest.raises(SqlError) as e:
        compiled("CAST(S AS ARRAY<INTEGER>)")
    assert str(e.value) == "Cast of STRING to ARRAY<INTEGER> is not supported"  # cast.json "non-array to array"
    with pytest.raises(SqlError) as e:
        compiled("CAST(B AS STRING)")
    assert str(e.value) == "Cast of BYTES to STRING is not supported"
    # BYTES travel as base64 text (substring.json "do substring with bytes with just pos")
    cols = [("SOURCE", ("BYTES",))]
    row = formats.deserialize("JSON", b'{"source": "c29tZV9zdHJpbmc="}', cols)
    assert row == {"SOURCE": b"some_string"}
    out = compiled("SUBSTRING(B, 6)")[1]({"B": row["SOURCE"]})
    assert formats.serialize("JSON", {"SUBSTRING": out}, [("SUBSTRING", ("BYTES",))]) == b'{"SUBSTRING":"c3RyaW5n"}'


def test_decimal_sum_keeps_every_digit():
    # sum.json "sum decimal": DecimalSumKudaf adds as BigDecimal does, past Python's default 28 digits
    from brook.sql.udafs import UDAFS, decimal_sum

    big = Decimal("12345678901234567890.123456789012345678")
    udaf = decimal_sum(38, 18)
    total = udaf.add(udaf.add(udaf.initial(), big), big)
    assert total == Decimal("24691357802469135780.246913578024691356")
    assert udaf.undo is not None and udaf.undo(total, big) == big and udaf.merge(big, big) == total
    assert UDAFS["SUM_LIST"]([], 1).add(0, [big, None, big]) == total
