"""`ksql [server]`: ksqlDB's interactive CLI, a client of the SQL server's REST API.

As ksqlDB's CLI: a banner and `ksql> ` prompt, statements that run on until `;` (over several lines), consecutive
statements sent together to /ksql, each SELECT streamed from /query until its LIMIT or Ctrl-C, `SET`/`UNSET` of
properties kept in the CLI and sent with every request, `DEFINE`d variables substituted in the CLI, the CLI's own
commands (`help`, `exit`, `output`, `server`, `version`, `run script`), a history file (~/.ksql-history, or
-Dhistory-file=... in KSQL_OPTS), and `--execute`/`-e`, `--file`/`-f` to run statements and exit."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from brook.sql.cli_output import Table, java_str, render_entities, tabular_row
from brook.sql.cli_rest import RestClient, ServerError

VERSION = "0.29.0"  # the ksqlDB release whose CLI this follows (the server's /info says the same)
HELP_REMINDER = "Having trouble? Type 'help' (case-insensitive) for a rundown of how things work!"
BANNER = ["===========================================",
          "=         Brook: streaming SQL over       =",
          "=        ksqlDB's REST API and syntax     =",
          "==========================================="]
HELP = """
Description:
\tThe ksqlDB CLI provides a terminal-based interactive shell for running queries. Each command should be on a
\tseparate line. For ksqlDB command syntax, see the documentation at https://github.com/confluentinc/ksql/docs/.

help:
\tShow this message.

exit:
\tExit the CLI.

output:
\tView the current output format.

output <format>:
\tSet the output format to <format> (valid formats: 'JSON', 'TABULAR')

server:
\tShow the current server

server <server>:
\tChange the current server to <server>

version:
\tGet the current ksqlDB version.

run script <path_to_sql_file>:
\tLoad and run the statements in the supplied file.
\tNote: the file must be UTF-8 encoded.

Default behavior:

    Lines are read one at a time and are sent to the server as ksqlDB unless one of the following is true:

    1. The line is empty or entirely whitespace. In this case, no request is made to the server.

    2. The line ends with unquoted `;`. Statements are sent once the line that completes them is read.
"""


def split_statements(text: str) -> tuple[list[str], str]:
    """Complete statements (each up to and including its `;` outside quotes and comments) and the rest."""
    out, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in "'`\"":
            end = text.find(c, i + 1)
            while end != -1 and c == "'" and text[end + 1:end + 2] == "'":  # '' inside a string
                end = text.find(c, end + 2)
            i = n if end == -1 else end + 1
            continue
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end == -1 else end + 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        if c == ";":
            out.append(text[start:i + 1].strip())
            start = i + 1
        i += 1
    return [s for s in out if _strip_comments(s) != ";"], text[start:]


def _strip_comments(statement: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", statement, flags=re.S).strip()


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'") if len(text) >= 2 and text[0] == text[-1] == "'" else text


_SET = re.compile(r"SET\s+('(?:[^']|'')*')\s*=\s*('(?:[^']|'')*')\s*;", re.I | re.S)
_UNSET = re.compile(r"UNSET\s+('(?:[^']|'')*')\s*;", re.I | re.S)
_DEFINE = re.compile(r"DEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*')\s*;", re.I | re.S)
_UNDEFINE = re.compile(r"UNDEFINE\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", re.I | re.S)
_VARIABLES = re.compile(r"(SHOW|LIST)\s+VARIABLES\s*;", re.I | re.S)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Cli:
    def __init__(self, client: RestClient, out: TextIO, output_format: str = "TABULAR",
                 row_limit: int | None = None, timeout_ms: int | None = None) -> None:
        self.client, self.out, self.output_format = client, out, output_format
        self.row_limit, self.timeout_ms = row_limit, timeout_ms
        self.variables: dict[str, str] = {}  # names compared case-insensitively, as ksqlDB's TreeMap

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def width(self) -> int:
        return shutil.get_terminal_size((80, 24)).columns

    # --- start

    def welcome(self) -> None:
        try:
            status, info = self.client.call("GET", "/info")
            server = info.get("KsqlServerInfo", {}) if status == 200 else {}
        except (ServerError, ValueError):
            server = {}
        width = min(self.width(), len(HELP_REMINDER))
        pad = " " * max(0, (width - len(BANNER[0])) // 2)
        logo = [""] + [pad + line for line in BANNER] if width >= len(BANNER[0]) else ["ksqlDB CLI (Brook)"]
        self.write("\n".join(logo) + "\n\n")
        self.write(f"CLI v{VERSION}, Server v{server.get('version', '<unknown>')} located at {self.client.server}\n")
        self.write(f"Server Status: {server.get('serverStatus', '<unknown>')}\n\n{HELP_REMINDER}\n\n")

    def validate(self) -> None:
        """RemoteServerSpecificCommand.validateClient: say so at once when the server cannot be reached."""
        try:
            status, body = self.client.call("GET", "/info")
            if status != 200:
                self.write(f"Couldn't connect to the KSQL server: {body.get('message')}\n\n")
        except ValueError as e:
            self.write(f"{e}\n")
        except ServerError as e:
            message = (f"Remote server at {self.client.server} does not appear to be a valid KSQL server. Please "
                       "ensure that the URL provided is for an active KSQL server.")
            self.write(f"\n{'ERROR'.center(80, '*')}\n{textwrap.fill(message, 80)}\n\n"
                       f"The server responded with the following error: \n{e}\n{'*' * 80}\n\n")

    # --- input

    def cli_command(self, line: str) -> None:
        """One of the CLI's own commands (is_cli_command said so)."""
        words = line.strip().rstrip(";").split()
        name = words[0].lower()
        if name == "exit":
            raise EOFError
        if name == "help":
            self.write(HELP)
        elif name == "version":
            self.write(f"Version: {VERSION}\n")
        elif name == "output":
            if len(words) == 1:
                self.write(f"Output format: {self.output_format}\n")
            elif words[1].upper() in ("JSON", "TABULAR"):
                self.output_format = words[1].upper()
                self.write(f"Output format set to {self.output_format}\n")
            else:
                self.write(f"Invalid output format: '{words[1]}' (valid formats: [JSON, TABULAR])\n")
        elif name == "server":
            if len(words) == 1:
                self.write(self.client.server + "\n")
            else:
                self.client.server = words[1]
                self.write(f"Server now: {words[1]}\n")
                self.validate()
        else:
            self.run_script_command(_unquote(words[2]))

    def run_script_command(self, path: str) -> None:
        """RUN SCRIPT: the file's statements in one /ksql request, as ksqlDB's CLI sends them."""
        try:
            content = Path(path).read_text(encoding="utf-8")
        except OSError:
            self.error(f"Failed to read file: {path}")
            return
        self.ksql(content)

    # --- statements

    def handle(self, text: str) -> None:
        """Cli.handleStatements: SELECT, SET, UNSET and the variable statements here, the rest batched to /ksql."""
        statements, rest = split_statements(text.strip())
        if _strip_comments(rest):
            statements.append(rest.strip())
        batch: list[str] = []
        for raw in statements:
            stmt = self.substitute(raw)
            local = self._local(stmt)
            if local is None:
                batch.append(stmt)
                continue
            if batch:
                self.ksql("\n".join(batch))
                batch = []
            local()
        if batch:
            self.ksql("\n".join(batch))

    def _local(self, stmt: str) -> Callable[[], None] | None:
        """The CLI's own handling of a statement (run after the statements before it), or None: the server's."""
        head = _strip_comments(stmt)
        if re.match(r"SELECT\b", head, re.I):
            return partial(self.query, stmt)
        if re.match(r"PRINT\b", head, re.I):
            return partial(self.print_topic, stmt)
        if m := _SET.fullmatch(head):
            return partial(self.set_property, _unquote(m[1]), _unquote(m[2]))
        if m := _UNSET.fullmatch(head):
            return partial(self.unset_property, _unquote(m[1]))
        if m := _DEFINE.fullmatch(head):
            return partial(self.define, m[1], _unquote(m[2]))
        if m := _UNDEFINE.fullmatch(head):
            return partial(self.undefine, m[1])
        if _VARIABLES.fullmatch(head):
            return self.list_variables
        return None

    def substitute(self, statement: str) -> str:
        lower = {k.lower(): v for k, v in self.variables.items()}
        return _VAR.sub(lambda m: lower.get(m[1].lower(), m[0]), statement)

    def error(self, message: str) -> None:
        self.write(message + "\n")

    def print_error_body(self, body: Any) -> None:
        """printErrorMessage: a statement error's entities first, then the message."""
        if not isinstance(body, dict):
            self.error(str(body))
            return
        if body.get("entities"):
            self.print_entities(body["entities"])
        self.error(str(body.get("message", body)))

    def print_entities(self, entities: list[dict]) -> None:
        if self.output_format == "JSON":
            self.write(json.dumps(entities, indent=2) + "\n")
        else:
            self.write(render_entities(entities, self.width()))

    def ksql(self, text: str) -> None:
        try:
            status, body = self.client.call("POST", "/ksql", {"ksql": text,
                                                              "streamsProperties": self.client.properties})
        except ServerError as e:
            self.error(str(e))
            return
        if status != 200:
            self.print_error_body(body)
            return
        failed = [entity for entity in body if entity.get("@type") == "currentStatus"
                  and entity.get("commandStatus", {}).get("status") == "ERROR"]
        for entity in failed:
            self.error(str(entity["commandStatus"]["message"]).split("\n")[0])
        if not failed:
            self.print_entities(body)

    def query(self, statement: str) -> None:
        """Cli.handleQuery: rows streamed from /query until the server ends them (LIMIT, a pull query's last
        row), --query-row-limit, --query-timeout or Ctrl-C; then `Query terminated`."""
        timeout = None if self.timeout_ms is None else self.timeout_ms / 1000
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            conn, resp = self.client.open("POST", "/query", {"ksql": statement,
                                                             "streamsProperties": self.client.properties},
                                          timeout=timeout)
        except ServerError as e:
            self.error(str(e))
            return
        try:
            if resp.status != 200:
                raw = resp.read()
                try:
                    self.print_error_body(json.loads(raw))
                except ValueError:
                    self.error(raw.decode(errors="replace"))
                return
            rows = 0
            for item in _stream_items(resp):
                if "header" in item:
                    names = column_names(item["header"].get("schema", ""))
                    self.write(self._row(names, header=True) + "\n")
                elif "row" in item:
                    self.write(self._row((item["row"].get("columns") or []), header=False) + "\n")
                    rows += 1
                    if self.row_limit is not None and rows >= self.row_limit:
                        break
                elif "finalMessage" in item:
                    self.write(str(item["finalMessage"]) + "\n")
                elif "errorMessage" in item:
                    self.print_error_body(item["errorMessage"])
                if deadline is not None and time.monotonic() >= deadline:
                    break
        except (KeyboardInterrupt, TimeoutError):
            pass  # Ctrl-C or --query-timeout ends the query, not the CLI
        finally:
            conn.close()
        self.write("Query terminated\n")

    def print_topic(self, statement: str) -> None:
        """Cli.handlePrintedTopic: /query's lines printed as they come (the empty keep-alive lines skipped) until
        the server ends them (LIMIT) or Ctrl-C, then `Topic printing ceased`; an error prints its message only."""
        try:
            conn, resp = self.client.open("POST", "/query", {"ksql": statement,
                                                             "streamsProperties": self.client.properties},
                                          timeout=None)
        except ServerError as e:
            self.error(str(e))
            return
        try:
            if resp.status != 200:
                raw = resp.read()
                try:
                    body = json.loads(raw)
                    self.error(str(body.get("message", body)) if isinstance(body, dict) else str(body))
                except ValueError:
                    self.error(raw.decode(errors="replace"))
                return
            while line := resp.readline():
                if text := line.decode(errors="replace").rstrip("\r\n"):
                    self.write(text + "\n")
            self.write("Topic printing ceased\n")
        except KeyboardInterrupt:
            self.write("Topic printing ceased\n")
        finally:
            conn.close()

    def _row(self, values: list, header: bool) -> str:
        if self.output_format == "JSON":
            return json.dumps({"header": values} if header else {"row": {"columns": values}})
        return tabular_row(self.width(), values if header else [java_str(v) for v in values], header)

    def set_property(self, name: str, value: str) -> None:
        prior = self.client.properties.get(name)
        self.client.properties[name] = value
        if prior is None:
            self.write(f"Successfully changed local property '{name}' to '{value}'. Use the UNSET command to revert "
                       "your change.\n")
        else:
            self.write(f"Successfully changed local property '{name}' from '{prior}' to '{value}'.\n")

    def unset_property(self, name: str) -> None:
        prior = self.client.properties.pop(name, None)
        if prior is None:
            self.error(f"Cannot unset local property '{name}' which was never set in the first place")
        else:
            self.write(f"Successfully unset local property '{name}' (value was '{prior}').\n")

    def define(self, name: str, value: str) -> None:
        for known in [k for k in self.variables if k.lower() == name.lower()]:
            del self.variables[known]
        self.variables[name] = value

    def undefine(self, name: str) -> None:
        known = [k for k in self.variables if k.lower() == name.lower()]
        if not known:
            self.write(f"Cannot undefine variable '{name}' which was never defined.\n")
        for k in known:
            del self.variables[k]

    def list_variables(self) -> None:
        rows = sorted([k, v] for k, v in self.variables.items())
        self.write("\n" + Table(["Variable Name", "Value"], rows).render(self.width()))

    # --- the loop

    def run_interactively(self, lines: Iterator[str]) -> None:
        self.welcome()
        self.validate()
        while True:
            try:
                text = next(lines)
                if is_cli_command(text):
                    self.cli_command(text)
                else:
                    self.handle(text)
            except (EOFError, StopIteration):
                self.write("Exiting ksqlDB.\n")
                return
            except KeyboardInterrupt:
                self.write("^C\n")


def is_cli_command(line: str) -> bool:
    """A whole line that is one of the CLI's own commands (`;` optional), not a statement for the server."""
    words = line.strip().rstrip(";").split()
    if not words:
        return False
    name = words[0].lower()
    return ((name in ("exit", "help", "version") and len(words) == 1) or (name in ("output", "server")
            and len(words) <= 2) or (name == "run" and len(words) == 3 and words[1].lower() == "script"))


def complete(text: str) -> bool:
    """Whether the text ends with its last statement's `;` (comments and blanks after it aside)."""
    return not _strip_comments(split_statements(text)[1])


def column_names(schema: str) -> list[str]:
    """The column names of /query's header schema (`` `A` STRING, `B` STRUCT<`X` INT, ...> KEY``)."""
    names, depth, quoted, current, first = [], 0, False, "", True
    for c in schema:
        if c == "`":
            quoted = not quoted
            if not quoted and first:
                names.append(current)
                first = False
            current = ""
        elif quoted:
            current += c
        elif c in "<(":
            depth += 1
        elif c in ">)":
            depth -= 1
        elif c == "," and depth == 0:
            first = True
    return names


def _stream_items(resp: http.client.HTTPResponse) -> Iterator[dict]:
    """/query's chunked JSON array, one element a line: `[{header},`, `{row},` ..., `{finalMessage}]`."""
    while line := resp.readline():
        text = line.decode().strip().lstrip("[").rstrip("]").rstrip(",").strip()
        if text:
            yield json.loads(text)


class History:
    """The CLI's history file in JLine's format (`<millis>:<line>`, newlines escaped), one entry a statement."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, entry: str) -> None:
        escaped = entry.replace("\\", "\\\\").replace("\n", "\\n")
        try:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(f"{int(time.time() * 1000)}:{escaped}\n")
        except OSError:
            pass  # a history that cannot be written is no reason to stop

    def entries(self) -> list[str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        return [line.partition(":")[2].replace("\\n", "\n").replace("\\\\", "\\") for line in lines]


def history_path() -> Path:
    m = re.search(r"-Dhistory-file=(\S+)", os.environ.get("KSQL_OPTS", ""))
    return Path(m[1] if m else Path.home() / ".ksql-history").absolute()


def logical_lines(out: TextIO, history: History) -> Iterator[str]:
    """What the `ksql> ` prompt reads: a CLI command's line, or lines up to the one that completes a statement,
    from a terminal (with readline's editing and the history) or from whatever stdin is. Each lands in the
    history file; Ctrl-C at the prompt drops what was typed."""
    interactive = sys.stdin.isatty()
    if interactive:
        try:
            import readline

            for entry in history.entries():
                readline.add_history(entry)
        except ImportError:
            pass
    pending: list[str] = []
    while True:
        prompt = "" if pending else "ksql> "
        try:
            if interactive:
                line = input(prompt)
            else:
                out.write(prompt)
                out.flush()
                line = sys.stdin.readline()
                if not line:
                    raise EOFError
                line = line.rstrip("\n")
        except EOFError:
            if pending:
                yield "\n".join(pending)
            return
        except KeyboardInterrupt:
            out.write("^C\n")
            pending = []
            continue
        if not pending and is_cli_command(line):
            history.add(line.strip())
            yield line
            continue
        pending.append(line)
        text = "\n".join(pending)
        if complete(text):
            pending = []
            if text.strip():
                history.add(text.strip())
                yield text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ksql", description="KSQL CLI")
    p.add_argument("server", nargs="?", default="http://localhost:8088",
                   help="The address of the Ksql server to connect to (ex: http://confluent.io:9098)")
    p.add_argument("-e", "--execute", help="Execute one or more SQL statements and quit.")
    p.add_argument("-f", "--file", help="Execute commands from a file and exit.")
    p.add_argument("-d", "--define", action="append", default=[],
                   help="Define variables for the CLI session (equivalent to the DEFINE statement).")
    p.add_argument("--output", default="TABULAR", type=str.upper, choices=["JSON", "TABULAR"],
                   help="The output format to use (either 'JSON' or 'TABULAR'; defaults to TABULAR)")
    p.add_argument("--query-row-limit", type=int, help="An optional maximum number of rows to read from streamed "
                   "queries")
    p.add_argument("--query-timeout", type=int, help="An optional time limit (in milliseconds) for streamed queries")
    p.add_argument("--config-file", help="A file of properties: ssl.* configure the connection to an https server, "
                   "the others are sent with every request (as SET would)")
    p.add_argument("-u", "--user", help="If your KSQL server is configured for authentication, then provide your "
                   "user name here. The password must be specified separately with the -p/--password flag")
    p.add_argument("-p", "--password", help="If your KSQL server is configured for authentication, then provide "
                   "your password here. The username must be specified separately with the -u/--user flag")
    args = p.parse_args(argv)
    client = RestClient(args.server)
    if args.password is not None and args.user is None:
        print("You must specify the username (-u/--user) when specifying a password (-p/--password).",
              file=sys.stderr)
        return 1
    if args.user is not None:
        password = args.password
        if password is None:  # ksqlDB prompts, without echo
            import getpass

            password = getpass.getpass("Enter password: ")
        client.login(args.user, password)
    config: dict[str, str] = {}
    if args.config_file:
        from brook.config.properties import load_properties

        config = load_properties(args.config_file)
    try:
        if urlsplit(args.server).scheme == "https":
            client.configure_tls({k: v for k, v in config.items() if k.startswith("ssl.")})
    except (ValueError, OSError, ssl.SSLError) as e:
        print(f"Error: could not set up TLS from {args.config_file}: {e}", file=sys.stderr)
        return 1
    client.properties.update({k: v for k, v in config.items() if not k.startswith("ssl.")})
    cli = Cli(client, sys.stdout, args.output, args.query_row_limit, args.query_timeout)
    for definition in args.define:
        name, sep, value = definition.partition("=")
        if not sep:
            print(f"Variables must be defined using '=' (i.e. var=val): {definition}", file=sys.stderr)
            return 1
        cli.define(name.strip(), value.strip())
    if args.execute is not None or args.file is not None:
        cli.validate()
        if args.file is not None:
            try:
                text = Path(args.file).read_text(encoding="utf-8")
            except OSError as e:
                cli.error(f"Failed to read file: {args.file}: {e.strerror}")
                return 1
        else:
            text = args.execute if args.execute.rstrip().endswith(";") else args.execute + ";"
        cli.handle(text)
        return 0
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cli.run_interactively(logical_lines(sys.stdout, History(history_path())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
