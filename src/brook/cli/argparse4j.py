"""The parts of argparse4j 0.7.0 (the parser behind Kafka's TransactionsCommand, ProducerPerformance and the
verifiable clients) that their users see: sub-commands, flags with prefix abbreviations, Integer/Long/Short/Double
conversion, choices, nargs("+"), storeTrue, (mutually exclusive) groups, defaultHelp, and its usage lines, help and
error messages (`usage: ...` then `prog: error: message` on stderr). Python's argparse words these differently."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from brook.cli.break_iterator import line_segments as _segments

FORMAT_WIDTH = 75  # ArgumentParsers.getFormatWidth()
_NEG_NUM = re.compile(r"-\d+")
_JAVA_INT = re.compile(r"[+-]?\d+")
_RANGES = {"Integer": 31, "Long": 63, "Short": 15}
_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)")


class ArgumentParserException(Exception):
    def __init__(self, message: str, parser: Parser, arg: Argument | None = None, unknown: str | None = None,
                 command: str | None = None) -> None:
        super().__init__(f"argument {arg.textual_name}: {message}" if arg else message)
        self.parser = parser
        self.unknown = unknown  # UnrecognizedArgumentException's argument
        self.command = command  # UnrecognizedCommandException's command


class HelpScreen(Exception):
    pass


@dataclass(eq=False)
class Argument:
    flags: tuple[str, ...]
    help: str = ""
    type: str = "String"
    required: bool = False
    default: Any = None
    metavar: str | None = None
    action: str = "store"  # store, append, store_true, help, version
    dest: str = ""  # the flag's name with '-' as '_' unless given
    nargs: str | None = None  # None (one value) or "+"
    choices: tuple | None = None
    group: Group | None = None

    def __post_init__(self) -> None:
        # argparse4j's dest: the first long flag's name (else the first flag's), dashes as underscores
        self.dest = self.dest or next((f for f in self.flags if f.startswith("--")), self.flags[0]).lstrip(
            "-").replace("-", "_")
        if self.action == "store_true":
            self.default = False

    @property
    def textual_name(self) -> str:
        return "/".join(self.flags)

    @property
    def consumes(self) -> bool:
        return self.action in ("store", "append")

    def format_metavar(self) -> str:
        if not self.consumes:
            return ""
        meta = self.metavar or ("{" + ",".join(map(str, self.choices)) + "}" if self.choices else self.dest.upper())
        return f"{meta} [{meta} ...]" if self.nargs == "+" else meta

    def short_syntax(self, brackets: bool = True) -> str:
        meta = self.format_metavar()
        text = f"{self.flags[0]} {meta}" if meta else self.flags[0]
        return text if self.required or not brackets else f"[{text}]"

    def help_title(self) -> str:
        meta = self.format_metavar()
        return ", ".join(f"{f} {meta}" if meta else f for f in self.flags)

    def convert(self, parser: Parser, value: str) -> Any:
        converted = self._convert(parser, value)
        if self.choices is not None and converted not in self.choices:
            choices = "{" + ",".join(map(str, self.choices)) + "}"
            raise ArgumentParserException(f"invalid choice: '{value}' (choose from {choices})", parser, self)
        return converted

    def _convert(self, parser: Parser, value: str) -> Any:
        if self.type == "String":
            return value
        if self.type == "Double":  # Double.valueOf
            if _JAVA_DOUBLE.fullmatch(value.strip()):
                return float(value.strip().rstrip("fFdD").replace("Infinity", "inf"))
            cause = "empty String" if not value.strip() else f'For input string: "{value}"'
            raise ArgumentParserException(f"could not convert '{value}' to Double ({cause})", parser, self)
        bits = _RANGES[self.type]
        if _JAVA_INT.fullmatch(value) and -(1 << bits) <= int(value) < (1 << bits):
            return int(value)
        cause = (f'For input string: "{value}"' if not _JAVA_INT.fullmatch(value) or self.type != "Short"
                 else f'Value out of range. Value:"{value}" Radix:10')
        raise ArgumentParserException(f"could not convert '{value}' to {self.type} ({cause})", parser, self)


@dataclass(eq=False)
class Group:
    title: str
    description: str
    args: list[Argument] = field(default_factory=list)
    mutex: bool = False
    required: bool = False

    @property
    def separate_help(self) -> bool:  # ArgumentGroupImpl.isSeparateHelp
        return not self.mutex or bool(self.title or self.description)

    def usage(self) -> list[str]:
        """A mutually exclusive group in the usage line: (a | b) when required, [a | b] when not."""
        if len(self.args) == 1:
            return [self.args[0].short_syntax(brackets=not self.required)]
        first, last = ("(", ")") if self.required else ("[", "]")
        out = [first + self.args[0].short_syntax(False)]
        for a in self.args[1:]:
            out += ["|", a.short_syntax(False)]
        out[-1] += last
        return out


class Parser:
    def __init__(self, prog: str, description: str = "", command: str | None = None, main: Parser | None = None,
                 help: str = "", default_help: bool = False) -> None:
        self.prog, self.description, self.command, self.main, self.help = prog, description, command, main, help
        self.default_help = default_help
        self.args: list[Argument] = []
        self.groups: list[Group] = []
        self.commands: dict[str, Parser] = {}
        self.commands_title = self.commands_metavar = ""
        self.add("-h", "--help", action="help", help="show this help message and exit")

    # -- definition ------------------------------------------------------------------------------------------
    def add(self, *flags: str, group: Group | None = None, **kw: Any) -> Argument:
        arg = Argument(tuple(flags), group=group, **kw)
        self.args.append(arg)
        if group is not None:
            group.args.append(arg)
        return arg

    def add_group(self, title: str, description: str, mutex: bool = False, required: bool = False) -> Group:
        self.groups.append(Group(title, description, mutex=mutex, required=required))
        return self.groups[-1]

    def add_command(self, name: str, help: str, description: str = "") -> Parser:
        sub = Parser(self.prog, description, name, self, help)
        self.commands[name] = sub
        return sub

    # -- parsing (ArgumentParserImpl.parseArgs) ---------------------------------------------------------------
    def parse(self, args: Sequence[str], version: Callable[[], None]) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        deferred: list[ArgumentParserException] = []
        self._parse(list(args), 0, attrs, deferred, version)
        if deferred:
            raise deferred[0]
        return attrs

    def _resolve(self, flag: str) -> Argument | None:
        index = {f: a for a in self.args for f in a.flags}
        if flag in index:
            return index[flag]
        candidates = sorted(f for f in index if f.startswith(flag))
        if not candidates:
            return None
        if len(candidates) == 1:
            return index[candidates[0]]
        raise ArgumentParserException(f"ambiguous option: {flag} could match {', '.join(candidates)}", self)

    def _resolve_command(self, term: str) -> Parser | None:
        """SubparsersImpl.resolveNextSubparser: an exact name, else a unique prefix of one."""
        if term in self.commands:
            return self.commands[term]
        candidates = sorted(c for c in self.commands if term and c.startswith(term))
        if len(candidates) > 1:
            raise ArgumentParserException(f"ambiguous command: {term} could match {', '.join(candidates)}", self)
        return self.commands[candidates[0]] if candidates else None

    def _parse(self, args: list[str], i: int, attrs: dict[str, Any], deferred: list[ArgumentParserException],
               version: Callable[[], None]) -> None:
        for a in self.args:
            if a.consumes or a.action == "store_true":
                attrs[a.dest] = a.default
        used: set[int] = set()
        group_used: dict[int, Argument] = {}
        while i < len(args):
            term = args[i]
            if _is_flag(term):
                flag, eq, embedded = term.partition("=")
                arg, value = self._resolve(flag), embedded if eq else None
                i += 1
                if arg is None:  # "-xy" / "-bVALUE": concatenated short options
                    arg, value = self._short_options(term, attrs, used, group_used, version)
                    if arg is None:
                        continue
                self._use(arg, used, group_used)
                if not arg.consumes:
                    if value is not None:  # ArgumentParserImpl.processArg
                        raise ArgumentParserException(f"ignore implicit argument '{value}'", self, arg)
                    self._run_flag(arg, attrs, version)
                    continue
                if arg.nargs == "+":
                    values = [value] if value is not None else []
                    while value is None and i < len(args) and not _is_flag(args[i]):
                        values.append(args[i])
                        i += 1
                    if not values:
                        raise ArgumentParserException("expected 1 argument(s)", self, arg)
                    attrs[arg.dest] = [arg.convert(self, v) for v in values]
                    continue
                if value is None and i < len(args) and not _is_flag(args[i]):
                    value, i = args[i], i + 1
                if value is None:
                    raise ArgumentParserException("expected one argument", self, arg)
                if arg.action == "append":
                    attrs[arg.dest] = [*(attrs[arg.dest] or []), arg.convert(self, value)]
                else:
                    attrs[arg.dest] = arg.convert(self, value)
            elif self.commands:
                self._check_required(used, group_used, deferred)
                sub = self._resolve_command(term)
                if sub is None:
                    choices = ", ".join(f"'{c}'" for c in self.commands)
                    raise ArgumentParserException(f"invalid choice: '{term}' (choose from {choices})", self,
                                                  command=term)
                sub._parse(args, i + 1, attrs, deferred, version)
                attrs["command"] = sub.command
                return
            else:
                raise ArgumentParserException(f"unrecognized arguments: '{' '.join(args[i:])}'", self)
        if self.commands:
            raise ArgumentParserException("too few arguments", self)
        self._check_required(used, group_used, deferred)

    def _use(self, arg: Argument, used: set[int], group_used: dict[int, Argument]) -> None:
        if arg.group is not None and arg.group.mutex:  # checkMutex
            other = group_used.setdefault(id(arg.group), arg)
            if other is not arg:
                raise ArgumentParserException(f"not allowed with argument {other.textual_name}", self, arg)
        used.add(id(arg))

    def _run_flag(self, arg: Argument, attrs: dict[str, Any], version: Callable[[], None]) -> None:
        """A flag that takes no argument: help, version or store_true."""
        if arg.action == "help":
            self.print_help()
            raise HelpScreen
        if arg.action == "version":
            version()
        elif arg.action == "store_true":
            attrs[arg.dest] = True

    def _short_options(self, term: str, attrs: dict[str, Any], used: set[int], group_used: dict[int, Argument],
                       version: Callable[[], None]) -> tuple[Argument | None, str | None]:
        """Concatenated short options ("-xy", "-bVALUE"): flags that take no argument run in turn, up to the first
        that takes one, which gets the rest of the term. Anything else is an unrecognized argument."""
        index = {f: a for a in self.args for f in a.flags}
        if term[1:2] != "-":
            for k in range(1, len(term)):
                arg = index.get("-" + term[k])
                if arg is None:
                    break
                if arg.consumes:
                    return arg, term[k + 1:] or None
                self._use(arg, used, group_used)
                self._run_flag(arg, attrs, version)
            else:
                return None, None
        raise ArgumentParserException(f"unrecognized arguments: '{term}'", self, unknown=term)

    def _check_required(self, used: set[int], group_used: dict[int, Argument],
                        deferred: list[ArgumentParserException]) -> None:
        if deferred:
            return
        missing = [a for a in self.args if a.required and id(a) not in used]
        if missing:  # argparse4j keeps the last one it finds
            deferred.append(ArgumentParserException(f"argument {missing[-1].textual_name} is required", self))
            return
        for g in self.groups:  # checkRequiredMutex
            if g.mutex and g.required and id(g) not in group_used:
                names = "".join(a.textual_name + " " for a in g.args)
                deferred.append(ArgumentParserException(f"one of the arguments {names}is required", self))

    # -- output -----------------------------------------------------------------------------------------------
    def usage(self) -> str:
        head = f"usage: {self.prog}"
        opts: list[str] = []
        chain: list[Parser] = []
        p = self.main
        while p is not None:
            chain.insert(0, p)
            p = p.main
        for p in chain:
            if p.command:
                opts.append(p.command)
            opts += [a.short_syntax() for a in p.args if a.required and not (a.group and a.group.mutex)]
            for g in p.groups:
                if g.mutex and (g.required or len(g.args) == 1 and g.args[0].required):
                    opts += g.usage()
        if self.command:
            opts.append(self.command)
        opts += [a.short_syntax() for a in self.args if not (a.group and a.group.mutex)]
        for g in self.groups:
            if g.mutex:
                opts += g.usage()
        if self.commands:
            opts += [self.commands_metavar or self._commands_braces(), "..."]
        if len(head) > 30:
            lines, width, indent = [head, "      "], 6, "      "
        else:
            lines, width, indent = [head], len(head), " " * len(head)
        first = True
        for syntax in opts:
            if not first and width + len(syntax) + 1 > FORMAT_WIDTH:
                lines.append("\n" + indent)
                width = len(indent)
            lines.append(" " + syntax)
            width += 1 + len(syntax)
            first = False
        return "".join(lines) + "\n"

    def print_help(self) -> None:
        """ArgumentParserImpl.printHelp (argparse4j 0.7.0's headings; argument groups after the commands)."""
        out = [self.usage()]
        if self.description:
            out.append("\n" + wrap(self.description) + "\n")
        grouped = {id(a) for g in self.groups if g.separate_help for a in g.args}
        if self.commands and not self.commands_title:  # untitled sub-commands are listed as positional arguments
            out.append("\npositional arguments:\n")
            out.append(help_line(self._commands_braces(), ""))
            out += [help_line("  " + name, sub.help) for name, sub in self.commands.items() if sub.help]
        out.append("\noptional arguments:\n")
        out += [help_line(a.help_title(), self._help(a)) for a in self.args if id(a) not in grouped]
        if self.commands and self.commands_title:
            out.append(f"\n{self.commands_title}:\n")
            out.append(help_line(self.commands_metavar, ""))
            out += [help_line("  " + name, sub.help) for name, sub in self.commands.items()]
        for g in self.groups:
            if not g.separate_help:
                continue
            out.append(f"\n{g.title}:\n" if g.title else "\n")
            if g.description:
                out.append("  " + wrap(g.description, 2, "  ") + "\n\n")
            out += [help_line(a.help_title(), self._help(a)) for a in g.args]
        sys.stdout.write("".join(out))
        sys.stdout.flush()

    def _commands_braces(self) -> str:  # SubparsersImpl.formatShortSyntax without a metavar
        return "{" + ",".join(self.commands) + "}"

    def _help(self, a: Argument) -> str:
        """ArgumentImpl.printHelp: with defaultHelp, a default is appended as Java's toString() shows it."""
        if not self.default_help or a.default is None:
            return a.help
        default = str(a.default).lower() if isinstance(a.default, bool) else str(a.default)
        return f"{a.help} (default: {default})" if a.help else f"(default: {default})"

    def handle_error(self, e: ArgumentParserException) -> None:
        """ArgumentParserImpl.handleError: the failing (sub-)parser's usage, the error, and close matches."""
        p = e.parser
        text = p.usage() + wrap(f"{p.prog}: error: {e}\n")
        if e.unknown is not None and len(e.unknown.lstrip("-")) >= 2:
            text += _candidates(e.unknown.lstrip("-"), [(f, f.lstrip("-")) for a in p.args for f in a.flags
                                                        if len(f.lstrip("-")) > 1])
        elif e.command is not None:
            text += _candidates(e.command, [(c, c) for c in p.commands])
        sys.stderr.write(text)
        sys.stderr.flush()

    def parse_or_exit(self, args: Sequence[str], version: Callable[[], None]) -> dict[str, Any]:
        """TransactionsCommand.execute: any parse failure (even --help) is handleError then Exit.exit(1)."""
        try:
            return self.parse(args, version)
        except HelpScreen:
            pass
        except ArgumentParserException as e:
            self.handle_error(e)
        exit_one()


    def parse_tool_args(self, args: Sequence[str]) -> dict[str, Any]:
        """ProducerPerformance / VerifiableProducer / VerifiableConsumer.main: no arguments print the help and exit
        0; a parse failure (even --help, which prints the help first) is handleError, then exit 1."""
        if not args:
            self.print_help()
            raise SystemExit(0)
        return self.parse_or_exit(args, lambda: None)

    def fail(self, message: str) -> NoReturn:
        """throw new ArgumentParserException(message, parser), caught by the tool's main: handleError, exit 1."""
        self.handle_error(ArgumentParserException(message, self))
        exit_one()


def exit_one() -> NoReturn:
    raise SystemExit(1)


def _is_flag(term: str) -> bool:
    """ArgumentParserImpl.flagFound: starts with '-', but neither '-' alone nor a negative number."""
    return term.startswith("-") and term != "-" and not _NEG_NUM.fullmatch(term)


def help_line(title: str, help: str) -> str:
    """TextHelper.printHelp: the title indented 2, its help from column 25 (on the next line after a long title)."""
    if not help:
        return f"  {title}\n"
    pad = " " * (25 - len(title) - 2) if len(title) <= 21 else "\n" + " " * 25
    return f"  {title}{pad}{wrap(help, 25, ' ' * 25)}\n"


def wrap(text: str, offset: int = 0, indent: str = "") -> str:
    """TextHelper.wrap at FORMAT_WIDTH: a line that overflows is cut at the last break and justified (adjustSpace
    widens its runs of spaces, the extra ones in the middle runs) to the full width."""
    res, line, width = "", "", offset
    for seg in _segments(text):
        width += len(seg)
        if width > FORMAT_WIDTH:
            res += _justify(line, width - len(seg)) + "\n" + indent
            line, width = "", len(indent) + len(seg)
        line += seg
        if seg.endswith("\n"):
            res += line + indent
            line, width = "", len(indent)
    return res + line


def _justify(line: str, width: int) -> str:
    stripped = line.strip(" ")
    width -= len(line) - len(stripped)
    runs = re.split(r"( +)", stripped)
    blocks = len(runs) // 2
    need = FORMAT_WIDTH - width
    if blocks == 0 or need <= 0:
        return stripped
    each, rem = divmod(need, blocks)
    rem_start = (blocks - rem + 1) // 2
    for b in range(blocks):
        runs[2 * b + 1] += " " * (each + (1 if rem_start <= b < rem_start + rem else 0))
    return "".join(runs)


def _levenshtein(a: str, b: str, swap: int = 0, sub: int = 2, add: int = 1, delete: int = 4) -> int:
    """Damerau-Levenshtein with git's costs, as argparse4j ranks its "Did you mean" candidates."""
    prev2: list[int] = [0] * (len(b) + 1)
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = prev[j - 1] + (0 if a[i - 1] == b[j - 1] else sub)
            if i >= 2 and j >= 2 and a[i - 1] != b[j - 1] and a[i - 2] == b[j - 1] and a[i - 1] == b[j - 2]:
                cur[j] = min(cur[j], prev2[j - 2] + swap)
            cur[j] = min(cur[j], prev[j] + delete, cur[j - 1] + add)
        prev2, prev = prev, cur
    return prev[len(b)]


def _candidates(body: str, subjects: list[tuple[str, str]]) -> str:
    ranked = sorted((0 if s_body.startswith(body) else _levenshtein(body, s_body), subject)
                    for subject, s_body in subjects)
    if not ranked or ranked[0][0] >= 7:
        return ""
    best = ranked[0][0]
    return "\nDid you mean:\n" + "".join(f"\t{s}\n" for score, s in ranked if score <= best)
