"""What every Kafka tool shares: jopt-simple's parsing, errors and help layout, CommandLineUtils' checks,
.properties files, and log4j-style diagnostics on stderr.

Kafka's tools are built on jopt-simple 5.0.4 (OptionParser without abbreviations) and
server-common's CommandLineUtils / CommandDefaultOptions; this module reproduces their behaviour and wording.
It imports nothing heavy, so `--help` and `--version` never load confluent-kafka.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

KAFKA_VERSION = "3.9.0"
BROOK_VERSION = "0.1.0"

_INT_RANGES = {"Integer": 2**31, "Long": 2**63, "Short": 2**15}
_JAVA_INT = re.compile(r"[+-]?[0-9]+")


class OptionError(Exception):
    """A jopt-simple OptionException: `kind` is its class name, str() its message (ExceptionMessages.properties)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def java(self) -> str:
        """Throwable.toString(): 'class: message'."""
        return f"joptsimple.{self.kind}: {self}"


@dataclass(eq=False)
class Spec:
    """One accepted option, as built by parser.accepts(...).withRequiredArg().describedAs(...).ofType(...)."""

    name: str
    description: str = ""
    arg: str = "none"  # "none", "required" or "optional"
    type: str = "String"  # jopt's type indicator: String, Integer, Long, Double
    described_as: str = ""
    default: tuple[str, ...] = ()
    separator: str | None = None  # withValuesSeparatedBy
    for_help: bool = False
    required: bool = False  # .required(): "* " in the help, MissingRequiredOptionsException when absent
    required_unless: tuple[str, ...] = ()
    available_if: tuple[str, ...] = ()

    def __str__(self) -> str:  # AbstractOptionSpec.toString(): the option names as a list
        return f"[{self.name}]"

    def convert(self, raw: str) -> str | int | float:
        if self.type in _INT_RANGES:  # Integer.valueOf / Long.valueOf
            bound = _INT_RANGES[self.type]
            if _JAVA_INT.fullmatch(raw) and -bound <= int(raw) < bound:
                return int(raw)
        elif self.type == "Double":
            try:
                return float(raw)
            except ValueError:
                pass
        else:
            return raw
        # joptsimple.OptionArgumentConversionException (ExceptionMessages.properties)
        raise OptionError("OptionArgumentConversionException", f"Cannot parse argument '{raw}' of option {self.name}")


class OptionSet:
    """What parse() detected: options in command-line order with their raw arguments."""

    def __init__(self, args: Sequence[str]) -> None:
        self.args = list(args)
        self.order: list[Spec] = []  # every occurrence, in order (ConfigCommand pairs --entity-type with names)
        self.raw: dict[str, list[str]] = {}
        self.non_options: list[str] = []

    def has(self, spec: Spec) -> bool:
        return spec.name in self.raw

    def values_of(self, spec: Spec) -> list:
        raw = self.raw.get(spec.name)
        if raw is None:
            raw = list(spec.default)
        return [spec.convert(v) for v in raw]

    def value_of(self, spec: Spec):  # noqa: ANN201 - str, int or float by the spec's type
        values = self.values_of(spec)
        if len(values) > 1:
            raise OptionError("MultipleArgumentsForOptionException",
                              f"Found multiple arguments for option {spec.name}, but you asked for only one")
        return values[0] if values else None


@dataclass
class OptionParser:
    """jopt-simple's OptionParser(allowAbbreviations=false) with CommandDefaultOptions' --help and --version."""

    specs: dict[str, Spec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.help = self.accepts("help", "Print usage information.", for_help=True)
        self.version = self.accepts("version", "Display Kafka version.", for_help=True)

    def accepts(self, name: str, description: str = "", **kw: object) -> Spec:
        spec = Spec(name, description, **kw)  # type: ignore[arg-type]
        self.specs[name] = spec
        return spec

    def parse(self, argv: Sequence[str]) -> OptionSet:
        opts = OptionSet(argv)
        args = list(argv)
        i = 0
        while i < len(args):
            token = args[i]
            i += 1
            if token == "--":
                opts.non_options.extend(args[i:])
                break
            if token.startswith("--"):
                name, eq, inline = token[2:].partition("=")
                spec = self._recognized(name)
                if eq:
                    value: str | None = inline
                elif spec.arg == "required":
                    if i >= len(args):
                        raise OptionError("OptionMissingRequiredArgumentException",
                                          f"Option {name} requires an argument")
                    value, i = args[i], i + 1
                elif spec.arg == "optional" and i < len(args) and not _looks_like_option(args[i]):
                    value, i = args[i], i + 1
                else:
                    value = None
                self._add(opts, spec, value)
            elif token.startswith("-") and token != "-":
                if token[1:] in self.specs:
                    self._add(opts, self.specs[token[1:]], None)
                else:
                    self._recognized(token[1])
            else:
                opts.non_options.append(token)
        if not any(opts.has(s) for s in self.specs.values() if s.for_help):
            missing = [s for s in self.specs.values() if s.required and not opts.has(s)]
            missing += [s for s in self.specs.values()
                        if s.required_unless and not opts.has(s) and not any(n in opts.raw for n in s.required_unless)]
            if missing:
                raise OptionError("MissingRequiredOptionsException",
                                  f"Missing required option(s) [{', '.join(s.name for s in missing)}]")
            unavailable = [s for s in self.specs.values()
                           if s.available_if and opts.has(s) and not any(n in opts.raw for n in s.available_if)]
            if unavailable:
                raise OptionError("UnavailableOptionException", "Option(s) [{}] are unavailable given other options "
                                  "on the command line".format(", ".join(s.name for s in unavailable)))
        return opts

    def _recognized(self, name: str) -> Spec:
        if name not in self.specs:
            raise OptionError("UnrecognizedOptionException", f"{name} is not a recognized option")
        return self.specs[name]

    @staticmethod
    def _add(opts: OptionSet, spec: Spec, value: str | None) -> None:
        values = opts.raw.setdefault(spec.name, [])
        opts.order.append(spec)
        if value is not None:
            values.extend([v for v in value.split(spec.separator) if v] if spec.separator else [value])

    def help_text(self) -> str:
        """BuiltinHelpFormatter(80, 2): sorted options, two columns, descriptions wrapped with a 2-space indent."""
        rows = [("Option", "Description"), ("------", "-----------")]
        if any(s.required for s in self.specs.values()):
            rows = [("Option (* = required)", "Description"), ("---------------------", "-----------")]
        for spec in sorted(self.specs.values(), key=lambda s: s.name):
            left = ("* " if spec.required else "") + "--" + spec.name
            if spec.arg != "none" or spec.described_as:
                inner = spec.type + (": " + spec.described_as if spec.described_as else "")
                left += f" <{inner}>" if spec.arg == "required" else f" [{inner}]"
            right = spec.description
            if spec.default:
                shown = spec.default[0] if len(spec.default) == 1 else "[" + ", ".join(spec.default) + "]"
                right = f"{right} (default: {shown})".strip()
            rows.append((left, right))
        return _render_rows(rows, width=80, gap=2)


def _looks_like_option(arg: str) -> bool:
    return arg.startswith("-") and arg != "-"


def _render_rows(rows: list[tuple[str, str]], width: int, gap: int) -> str:
    def widths(rs: list[tuple[str, str]]) -> tuple[int, int]:
        left = min((width - gap) // 2, max(len(r[0]) for r in rs))
        return left, min(width - left - gap, max(len(r[1]) for r in rs))

    left_w, right_w = widths(rows)
    fitted: list[tuple[str, str]] = []
    for left, right in rows:
        lefts, rights = _pieces(left, left_w), _pieces(right, right_w)
        for i in range(max(len(lefts), len(rights))):
            fitted.append((lefts[i] if i < len(lefts) else "", rights[i] if i < len(rights) else ""))
    left_w, right_w = widths(fitted)
    return "".join(f"{a.ljust(left_w)}{' ' * gap}{b.ljust(right_w)}\n" for a, b in fitted)


def _pieces(text: str, width: int) -> list[str]:
    """joptsimple.internal.Columns: split on line breaks, then break lines where java.text.BreakIterator may."""
    from brook.cli.break_iterator import line_segments

    pieces: list[str] = []
    for line in text.strip().split("\n"):
        piece = ""
        for word in line_segments(line):
            if len(piece) + len(word) > width:
                pieces.append(piece.rstrip())
                piece = "  " + word
            else:
                piece += word
        if piece:
            pieces.append(piece)
    return pieces


# --- CommandLineUtils ----------------------------------------------------------------------------------------


def print_usage_and_exit(parser: OptionParser, message: str) -> NoReturn:
    """CommandLineUtils.printUsageAndExit: the message and the help on stderr, exit status 1."""
    sys.stderr.write(message + "\n" + parser.help_text())
    sys.stderr.flush()
    raise SystemExit(1)


def print_version_and_exit() -> NoReturn:
    print(f"{KAFKA_VERSION} (Brook {BROOK_VERSION})")
    raise SystemExit(0)


def maybe_print_help_or_version(parser: OptionParser, opts: OptionSet, message: str) -> None:
    if not opts.args or opts.has(parser.help):
        print_usage_and_exit(parser, message)
    if opts.has(parser.version):
        print_version_and_exit()


def check_required_args(parser: OptionParser, opts: OptionSet, *required: Spec) -> None:
    for spec in required:
        if not opts.has(spec):
            print_usage_and_exit(parser, f'Missing required argument "{spec}"')


def check_invalid_args(parser: OptionParser, opts: OptionSet, used: Spec, invalid: Iterable[Spec]) -> None:
    if opts.has(used):
        for spec in invalid:
            if opts.has(spec):
                print_usage_and_exit(parser, f'Option "{used}" can\'t be used with option "{spec}"')


def parse_key_value_args(values: Iterable[str]) -> dict[str, str]:
    """CommandLineUtils.parseKeyValueArgs: 'key=value' (the value may hold '='); a bare key gets ''."""
    out: dict[str, str] = {}
    for arg in values:
        key, _, value = arg.partition("=")
        out[key] = value
    return out


def load_props(path: str) -> dict[str, str]:
    """Utils.loadProps; a missing file raises FileNotFoundError with Java's wording in str()."""
    from brook.config.properties import parse_properties

    try:
        with open(path, encoding="utf-8") as f:
            return parse_properties(f.read())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} (No such file or directory)") from None


class NoSuchFileException(OSError):
    """java.nio.file.NoSuchFileException: its message is the path alone."""

    def java(self) -> str:
        return f"java.nio.file.NoSuchFileException: {self}"


def load_props_nio(path: str) -> dict[str, str]:
    """Utils.loadProps as Kafka 3.9 writes it (Files.newInputStream): a missing file is NoSuchFileException."""
    try:
        return load_props(path)
    except FileNotFoundError:
        raise NoSuchFileException(path) from None


_HOST_PORT = re.compile(r".*?\[?([0-9a-zA-Z\-%._:]*)\]?:([0-9]+)")


def valid_host_ports(servers: str | None) -> bool:
    """ToolsUtils.validatePortOrDie: every comma-separated entry must carry a port (Utils.getPort)."""
    if not servers or not servers.strip():
        return False
    return all(_HOST_PORT.fullmatch(hp) for hp in servers.split(","))


# --- log4j-style diagnostics ---------------------------------------------------------------------------------


def log(level: str, message: str, logger: str, detail: str | None = None) -> None:
    """A line as Kafka's tools-log4j.properties prints it on stderr: [%d] %p %m (%c)%n, then a stack trace line."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now * 1000) % 1000:03d}"
    sys.stderr.write(f"[{stamp}] {level} {message} ({logger})\n" + (detail + "\n" if detail else ""))
    sys.stderr.flush()


class TerseException(Exception):
    """org.apache.kafka.tools.TerseException: a failure the tool reports by its message alone."""


def main_no_exit(execute: Callable[[Sequence[str]], object], argv: Sequence[str]) -> int:
    """The mainNoExit of Kafka's argparse4j tools (ClusterTool, EndToEndLatency): a TerseException's message, or any
    other failure's message and then its stack trace (reduced here to the trace's first line), with status 1."""
    try:
        execute(argv)
        return 0
    except TerseException as e:
        print(e, file=sys.stderr)
        return 1
    except BrokenPipeError:  # stdout closed (`| head`): entry_point ends quietly
        raise
    except Exception as e:
        from brook.cli.clients import java_text

        print(getattr(e, "message", None) or e, file=sys.stderr)
        print(java_text(e), file=sys.stderr)
        return 1


class Main(Protocol):
    """A tool's main: the arguments (None: the command line's), the exit status."""

    def __call__(self, argv: Sequence[str] | None = None) -> int: ...


def entry_point(main: Main) -> Main:
    """A console script's main: Ctrl-C exits with the JVM's 130; a closed stdout (`| head`) ends quietly, as Java's
    System.out swallows write errors."""

    @functools.wraps(main)
    def run(argv: Sequence[str] | None = None) -> int:
        # kio registers hypothesis strategies whenever hypothesis is importable (a test dependency in the shared
        # venv): a tool has no use for them and would pay about 150 ms of start-up
        sys.modules.setdefault("hypothesis", None)  # type: ignore[arg-type]
        try:
            return main(argv)
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0

    return run
