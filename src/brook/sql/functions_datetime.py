"""ksqlDB's date and time functions over Brook's values (TIMESTAMP: epoch milliseconds, DATE: epoch days, TIME:
milliseconds of the day), with Java DateTimeFormatter patterns.  Expected values follow ksqlDB's functional tests
(query-validation-tests/format-date.json, parse-time.json, timestampadd.json, dateadd.json, convert-tz.json...)."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from brook.sql.functions_base import BIGINT, DATE, DATE_TIME, INTEGER, STRING, TIME, TIMESTAMP, Fn, nulls

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DAY_MS = 86_400_000
_CYCLE = 146_097  # the days of 400 Gregorian years (a whole number of weeks)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# the time units ksqlDB's grammar takes in TIMESTAMPADD(unit, n, ts) and the others, in milliseconds
UNITS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": DAY_MS}
UNITS.update({k + "S": v for k, v in list(UNITS.items())})
UNIT_FUNCTIONS = ("TIMESTAMPADD", "TIMESTAMPSUB", "DATEADD", "DATESUB", "TIMEADD", "TIMESUB")


# Java's ZoneId.SHORT_IDS, and the daylight-time abbreviations its parsers read for pattern `z`
SHORT_IDS = {"ACT": "Australia/Darwin", "AET": "Australia/Sydney", "AGT": "America/Argentina/Buenos_Aires",
             "ART": "Africa/Cairo", "AST": "America/Anchorage", "BET": "America/Sao_Paulo", "BST": "Asia/Dhaka",
             "CAT": "Africa/Harare", "CNT": "America/St_Johns", "CST": "America/Chicago", "CTT": "Asia/Shanghai",
             "EAT": "Africa/Addis_Ababa", "ECT": "Europe/Paris", "IET": "America/Indiana/Indianapolis",
             "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "MIT": "Pacific/Apia", "NET": "Asia/Yerevan",
             "NST": "Pacific/Auckland", "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
             "PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
             "EST": "-05:00", "MST": "-07:00", "HST": "-10:00", "PDT": "America/Los_Angeles",
             "EDT": "America/New_York", "CDT": "America/Chicago", "MDT": "America/Denver"}


def zone(name: str) -> dt.tzinfo:
    """A java.util.TimeZone / ZoneId name: a region, UTC, a short id (PST), or an offset (+0200, +02:00, GMT+2)."""
    name = SHORT_IDS.get(name.upper(), name)
    m = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", name)
    if m:
        delta = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
        return dt.timezone(-delta if m.group(1) == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Unknown time-zone ID: {name}") from None


def _tokens(pattern: str) -> list[tuple[str, int] | str]:
    """A Java DateTimeFormatter pattern as (letter, count) fields and literal strings ('' is a quote)."""
    out: list[tuple[str, int] | str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = pattern.find("'", i + 1)
            while end != -1 and pattern[end + 1:end + 2] == "'":
                end = pattern.find("'", end + 2)
            end = len(pattern) if end == -1 else end
            out.append(pattern[i + 1:end].replace("''", "'") or "'")
            i = end + 1
        elif c.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            out.append((c, j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return out


def _offset(t: dt.datetime, letter: str, n: int) -> str:
    off = t.utcoffset() or dt.timedelta(0)
    if letter == "X" and not off:
        return "Z"
    secs = int(off.total_seconds())
    sign, secs = ("-" if secs < 0 else "+"), abs(secs)
    hh, mm = secs // 3600, secs // 60 % 60
    if letter in ("X", "x") and n == 1:
        return f"{sign}{hh:02d}" + (f"{mm:02d}" if mm else "")
    return f"{sign}{hh:02d}:{mm:02d}" if (letter in ("X", "x") and n >= 3) or n == 4 else f"{sign}{hh:02d}{mm:02d}"


def _year_text(year: int, letter: str, n: int) -> str:
    """A year as DateTimeFormatter prints it: `y` the year of era (1 BC is 1), `u` the proleptic year; `yy` two
    digits; a sign for a negative `u`, and `+` past the pad width from four letters on (SignStyle.EXCEEDS_PAD)."""
    v = year if letter == "u" or year > 0 else 1 - year
    if n == 2:
        return f"{v % 100:02d}"
    digits = f"{abs(v):0{n}d}"
    return ("-" if v < 0 else "+" if n >= 4 and len(digits) > n else "") + digits


def format_datetime(t: dt.datetime, pattern: str, year: int | None = None) -> str:
    """`t` in a Java pattern; `year` (when given) replaces t's, for dates beyond Python's (epoch_date)."""
    out = []
    for tok in _tokens(pattern):
        if isinstance(tok, str):
            out.append(tok)
            continue
        c, n = tok
        if c in "yu":
            out.append(_year_text(t.year if year is None else year, c, n))
        elif c in "ML":
            out.append(_MONTHS[t.month - 1][:3] if n == 3 else _MONTHS[t.month - 1] if n > 3 else f"{t.month:0{n}d}")
        elif c == "E":
            out.append(_DAYS[t.weekday()] if n >= 4 else _DAYS[t.weekday()][:3])
        elif c in "dDHhkKmsS":
            value = {"d": t.day, "D": t.timetuple().tm_yday, "H": t.hour, "h": (t.hour % 12) or 12,
                     "k": t.hour or 24, "K": t.hour % 12, "m": t.minute, "s": t.second}.get(c)
            out.append(f"{t.microsecond:06d}000"[:n].ljust(n, "0") if c == "S" else f"{value:0{n}d}")
        elif c == "a":
            out.append("AM" if t.hour < 12 else "PM")
        elif c in "XxZ":
            out.append(_offset(t, c, n))
        elif c in "zV":
            out.append(str(getattr(t.tzinfo, "key", None) or t.tzname()) if c == "V" else str(t.tzname()))
        else:
            raise ValueError(f"Unknown pattern letter: {c}")
    return "".join(out)


def parse_datetime(text: str, pattern: str, tz: dt.tzinfo = dt.UTC, prefix: bool = False) -> dt.datetime:
    """`text` read with a Java pattern; missing fields default to 1970-01-01T00:00 as ksqlDB's parsers do.  With
    `prefix`, text after the pattern is ignored (java.text.SimpleDateFormat, which PARSE_DATE uses)."""
    regex, fields = [], []
    for tok in _tokens(pattern):
        if isinstance(tok, str):
            regex.append(re.escape(tok))
            continue
        c, n = tok
        fields.append(tok)
        if (c in "ML" and n >= 3) or c == "E":
            regex.append("([A-Za-z]+)")
        elif c == "a":
            regex.append("([AaPp][Mm])")
        elif c in "XxZ":
            regex.append(r"(Z|[+-]\d{2}(?::?\d{2})?)")
        elif c in "zV":
            regex.append(r"([A-Za-z_/+\-0-9]+)")
        elif c == "S" or n > 1:
            regex.append(rf"(\d{{{n}}})" if c != "y" or n == 2 else r"(\d{4,9})")
        else:
            regex.append(r"(\d+)")
    # ksqlDB's parsers are case-insensitive
    m = (re.match if prefix else re.fullmatch)("".join(regex), text, re.IGNORECASE)
    if m is None:
        raise ValueError(f"Text '{text}' could not be parsed with pattern '{pattern}'")
    v: dict[str, Any] = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "us": 0}
    pm, zone_of = None, tz
    for (c, n), raw in zip(fields, m.groups(), strict=True):
        if c in "yu":
            v["y"] = 2000 + int(raw) if n == 2 else int(raw)
        elif c in "ML":
            v["M"] = int(raw) if n < 3 else [x[:len(raw)].lower() for x in _MONTHS].index(raw.lower()) + 1
        elif c == "D":
            v["doy"] = int(raw)
        elif c in "dHms":
            v[c] = int(raw)
        elif c in "hK":
            v["H"] = int(raw) % 12
        elif c == "k":
            v["H"] = int(raw) % 24
        elif c == "S":
            v["us"] = int(raw.ljust(6, "0")[:6])
        elif c == "a":
            pm = raw.upper() == "PM"
        elif c in "XxZ":
            zone_of = dt.UTC if raw in ("Z", "z") else zone(raw)
        elif c in "zV":
            zone_of = zone(raw)
    hour = v["H"] + (12 if pm else 0)
    t = dt.datetime(v["y"], v["M"], v["d"], hour, v["m"], v["s"], v["us"], tzinfo=zone_of)
    if "doy" in v:
        t = t.replace(month=1, day=1) + dt.timedelta(days=v["doy"] - 1)
    return t


def _ms(t: dt.datetime) -> int:
    return (t - EPOCH) // dt.timedelta(milliseconds=1)


def _at(ms: int, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    return (EPOCH + dt.timedelta(milliseconds=ms)).astimezone(tz)


def _format_timestamp(ms: int, pattern: str, tz: str = "UTC") -> str:
    return format_datetime(_at(ms, zone(tz)), pattern)


def parse_timestamp(text: str, pattern: str, tz: str = "UTC") -> int:
    """PARSE_TIMESTAMP, and a STRING timestamp column read with its TIMESTAMP_FORMAT."""
    return _ms(parse_datetime(text, pattern, zone(tz)))


def epoch_date(days: int) -> tuple[int, dt.datetime]:
    """The proleptic year of a DATE (days since the epoch, any int as java.time's LocalDate takes) and a day of
    Python's range with its month, day and weekday: moved by whole 400-year cycles, which repeat the calendar."""
    cycles = days // _CYCLE
    t = EPOCH + dt.timedelta(days=days - cycles * _CYCLE)
    return t.year + 400 * cycles, t


def iso_date(days: int) -> str:
    """A DATE as ksqlDB writes it (ISO_LOCAL_DATE: `+10000-01-01`, `-0001-12-31` beyond years 0 to 9999)."""
    year, t = epoch_date(days)
    return f"{_year_text(year, 'u', 4)}-{t.month:02d}-{t.day:02d}"


def _format_date(days: int, pattern: str) -> str:
    year, t = epoch_date(days)
    return format_datetime(t, pattern, year)


def _parse_date(text: str, pattern: str) -> int:
    # null.json "coalesce - with parse_date": '2003-12-24-01-01' reads as 2003-12-24 with 'yyyy-MM-dd'
    return _ms(parse_datetime(text, pattern, prefix=True).replace(hour=0, minute=0, second=0, microsecond=0)) // DAY_MS


def _format_time(ms: int, pattern: str) -> str:
    return format_datetime(_at(ms), pattern)


def _parse_time(text: str, pattern: str) -> int:
    t = parse_datetime(text, pattern)
    return (t.hour * 3600 + t.minute * 60 + t.second) * 1000 + t.microsecond // 1000


def _convert_tz(ms: int, source: str, target: str) -> int:
    # convert-tz.json: shifted by the difference of the zones' offsets at that instant
    def offset(name: str) -> dt.timedelta:
        return _at(ms, zone(name)).utcoffset() or dt.timedelta()
    return ms + (offset(target) - offset(source)) // dt.timedelta(milliseconds=1)


def _add(scale: int, sign: int, wrap: int | None = None) -> Any:
    def fn(unit: str, n: int, value: int) -> int:
        delta = UNITS[unit.upper()] * n * sign
        if scale == DAY_MS:  # dates: the interval in whole days, as Java's TimeUnit.toDays
            return value + int(delta / DAY_MS)
        return (value + delta) % wrap if wrap else value + delta
    return nulls(fn)


def _unix_date(days: int | None = None) -> int:
    return days if days is not None else int(time.time() // 86400)


def _unix_timestamp(ms: int | None = None) -> int:
    return ms if ms is not None else int(time.time() * 1000)


U = ("STRING", "INTEGER")
FUNCTIONS: dict[str, Fn] = {
    "CONVERT_TZ": Fn(nulls(_convert_tz), TIMESTAMP, (3, 3), DATE_TIME, ("TIMESTAMP", "STRING", "STRING")),
    "DATEADD": Fn(_add(DAY_MS, 1), DATE, (3, 3), DATE_TIME, (*U, "DATE")),
    "DATESUB": Fn(_add(DAY_MS, -1), DATE, (3, 3), DATE_TIME, (*U, "DATE")),
    "TIMEADD": Fn(_add(1, 1, DAY_MS), TIME, (3, 3), DATE_TIME, (*U, "TIME")),
    "TIMESUB": Fn(_add(1, -1, DAY_MS), TIME, (3, 3), DATE_TIME, (*U, "TIME")),
    "TIMESTAMPADD": Fn(_add(1, 1), TIMESTAMP, (3, 3), DATE_TIME, (*U, "TIMESTAMP")),
    "TIMESTAMPSUB": Fn(_add(1, -1), TIMESTAMP, (3, 3), DATE_TIME, (*U, "TIMESTAMP")),
    "FORMAT_DATE": Fn(nulls(_format_date), STRING, (2, 2), DATE_TIME, ("DATE", "STRING")),
    "FORMAT_TIME": Fn(nulls(_format_time), STRING, (2, 2), DATE_TIME, ("TIME", "STRING")),
    "FORMAT_TIMESTAMP": Fn(nulls(_format_timestamp), STRING, (2, 3), DATE_TIME, ("TIMESTAMP", "STRING", "STRING")),
    "PARSE_DATE": Fn(nulls(_parse_date), DATE, (2, 2), DATE_TIME, ("STRING", "STRING")),
    "PARSE_TIME": Fn(nulls(_parse_time), TIME, (2, 2), DATE_TIME, ("STRING", "STRING")),
    "PARSE_TIMESTAMP": Fn(nulls(parse_timestamp), TIMESTAMP, (2, 3), DATE_TIME, ("STRING", "STRING", "STRING")),
    "FROM_DAYS": Fn(nulls(int), DATE, (1, 1), DATE_TIME, ("INTEGER",)),
    "FROM_UNIXTIME": Fn(nulls(int), TIMESTAMP, (1, 1), DATE_TIME, ("NUM",)),
    "UNIX_DATE": Fn(_unix_date, INTEGER, (0, 1), DATE_TIME, ("DATE",)),
    "UNIX_TIMESTAMP": Fn(_unix_timestamp, BIGINT, (0, 1), DATE_TIME, ("TIMESTAMP",)),
    # deprecated, on BIGINT milliseconds and INT days
    "TIMESTAMPTOSTRING": Fn(nulls(_format_timestamp), STRING, (2, 3), DATE_TIME, ("NUM", "STRING", "STRING")),
    "STRINGTOTIMESTAMP": Fn(nulls(parse_timestamp), BIGINT, (2, 3), DATE_TIME, ("STRING", "STRING", "STRING")),
    "DATETOSTRING": Fn(nulls(_format_date), STRING, (2, 2), DATE_TIME, ("INTEGER", "STRING")),
    "STRINGTODATE": Fn(nulls(_parse_date), INTEGER, (2, 2), DATE_TIME, ("STRING", "STRING")),
}
