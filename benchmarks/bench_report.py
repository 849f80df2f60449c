"""run.py's reporting: the console lines, the markdown tables (Brook against the best peer on each line, the
price of fsync before the ack), the machine's facts, and docs/benchmarks.md written whole or by section.
Imported by run.py; not a command of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path

from bench_lines import FLUSH_PAIRS, KIB, Line, Result
from peer_brokers import REPO
from perf_clients import RDKAFKA_PERFORMANCE

DOCS = REPO / "docs/benchmarks.md"
OTHER_BENCHMARKS = "<!-- other benchmark commands: kept by --write-docs -->"


# --------------------------------------------------------------------------------------------------------------
# Reporting


def fmt_int(x: float | None) -> str:
    return "" if x is None else f"{x:,.0f}"


def fmt_f(x: float | None, digits: int = 1) -> str:
    return "" if x is None else f"{x:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return ""
    return f"{a / b:.2f}x"


def print_result(r: Result, indent: bool = True) -> None:
    head = f"  {r.broker:<6}" if indent else ""
    if r.na:
        print(f"{head} n/a: {r.na}", flush=True)
        return
    if not r.ok:
        print(f"{head} FAILED: {r.error}", flush=True)
        for note in r.notes:
            print(f"         {note}")
        return
    rss = "?" if r.rss_peak_kib is None else f"{r.rss_peak_kib / KIB:,.0f} MiB"
    if r.rss_peak_kib is not None and not r.rss_reset:
        rss += " (since start)"
    extra = f", p50 {r.p50_us:,.0f} us, p99 {r.p99_us:,.0f} us" if r.p50_us is not None else ""
    if r.p999_us is not None:
        extra += f", p99.9 {r.p999_us:,.0f} us"
    if r.spread is not None:
        extra += f", spread of {len(r.repeats)} repeats {r.spread:.0%}"
    cpu = "?" if r.cpu_s is None else f"{r.cpu_s:.2f}"
    if r.client_cpu_s is not None:
        cpu += f" (client {r.client_cpu_s:.2f}"
        cpu += ")" if r.other_cpu_s is None else f", other {r.other_cpu_s:.2f})"
    print(f"{head} {r.msgs_per_s:>12,.0f} msgs/s {r.mb_per_s:>9,.2f} MB/s  cpu {cpu} s  peak RSS {rss}"
          f"  ({r.msgs:,} msgs in {r.seconds:.2f} s, wall {r.wall:.2f} s){extra}", flush=True)
    for note in r.notes:
        print(f"         {note}")


def cpu_per_msg(r: Result | None) -> float | None:
    return r.cpu_s / r.msgs if r is not None and r.ok and r.cpu_s is not None and r.msgs else None


def brook_vs_best(line: Line, results: dict[tuple[str, str], Result], brokers: list[str]) -> tuple[str, str]:
    """Brook against the best peer on the line: msgs/s over the fastest peer's (on a latency line, the lowest
    peer p99 over Brook's p99, so above 1 still means Brook is better), and CPU per message over the thriftiest
    peer's (above 1 means Brook spends more)."""
    brook = results.get((line.name, "brook"))
    peers = [r for b in brokers if b != "brook" and (r := results.get((line.name, b))) is not None and r.ok]
    if brook is None or not brook.ok or not peers:
        return "", ""
    if line.kind == "latency":
        best = min(peers, key=lambda r: r.p99_us or float("inf"))
        speed = f"{ratio(best.p99_us, brook.p99_us)} p99 ({best.broker})"
    elif line.kind == "consume":
        best = max(peers, key=lambda r: r.wall_msgs_per_s)
        speed = f"{ratio(brook.wall_msgs_per_s, best.wall_msgs_per_s)} wall ({best.broker})"
    else:
        best = max(peers, key=lambda r: r.msgs_per_s)
        speed = f"{ratio(brook.msgs_per_s, best.msgs_per_s)} ({best.broker})"
    thrifty = [(c, r.broker) for r in peers if (c := cpu_per_msg(r)) is not None]
    cpu = ""
    if thrifty and cpu_per_msg(brook) is not None:
        c, name = min(thrifty)
        cpu = f"{ratio(cpu_per_msg(brook), c)} ({name})"
    return speed, cpu


def markdown_table(lines: list[Line], results: dict[tuple[str, str], Result], brokers: list[str],
                   counts: dict[str, int]) -> str:
    compare = "brook" in brokers and len(brokers) > 1
    cols = ["Line", "Messages", "Broker", "msgs/s", "spread", "wall msgs/s", "MB/s", "broker CPU s", "CPU µs/msg",
            "client / other CPU s", "peak RSS MiB", "p50 µs", "p99 µs", "p99.9 µs"]
    if compare:
        cols += ["Brook / best", "Brook / best CPU/msg"]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for line in lines:
        for b in brokers:
            r = results.get((line.name, b))
            if r is None:
                continue
            row = [f"`{line.name}`", f"{counts[line.name]:,}", b]
            if r.na:
                row += ["n/a"] + [""] * 10
            elif not r.ok:
                row += ["FAILED: " + r.error.replace("|", "/")[:160]] + [""] * 10
            else:
                cpu_per = cpu_per_msg(r)
                rss = fmt_int(r.rss_peak_kib / KIB if r.rss_peak_kib is not None else None)
                if r.rss_peak_kib is not None and not r.rss_reset:
                    rss += "*"
                spread = "" if r.spread is None else f"±{r.spread / 2:.0%}"
                others = f"{fmt_f(r.client_cpu_s, 2)} / {fmt_f(r.other_cpu_s, 2)}"
                row += [fmt_int(r.msgs_per_s), spread, fmt_int(r.wall_msgs_per_s), fmt_f(r.mb_per_s), fmt_f(r.cpu_s, 2),
                        fmt_f(cpu_per * 1e6 if cpu_per is not None else None, 2), others,
                        rss, fmt_int(r.p50_us), fmt_int(r.p99_us), fmt_int(r.p999_us)]
            if compare:
                row += list(brook_vs_best(line, results, brokers)) if b == "brook" else ["", ""]
            out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def flush_table(lines: list[Line], results: dict[tuple[str, str], Result], brokers: list[str]) -> str:
    """Each flush.messages=1 line against the same line without: the price of fsync before the ack."""
    names = {ln.name for ln in lines}
    out = ["| Line pair | Broker | msgs/s without | msgs/s with flush | with / without | CPU µs/msg without | "
           "CPU µs/msg with |", "|---|---|---|---|---|---|---|"]
    for plain, flushed in FLUSH_PAIRS:
        if plain not in names or flushed not in names:
            continue
        for b in brokers:
            r0, r1 = results.get((plain, b)), results.get((flushed, b))
            if r0 is None or r1 is None:
                continue
            if r1.na or not (r0.ok and r1.ok):
                why = "n/a" if r1.na else "FAILED"
                out.append(f"| `{plain}` / `-flush` | {b} | {fmt_int(r0.msgs_per_s) if r0.ok else why} | {why} "
                           "| | | |")
                continue
            c0, c1 = cpu_per_msg(r0), cpu_per_msg(r1)
            out.append(f"| `{plain}` / `-flush` | {b} | {fmt_int(r0.msgs_per_s)} | {fmt_int(r1.msgs_per_s)} | "
                       f"{ratio(r1.msgs_per_s, r0.msgs_per_s)} | {fmt_f(c0 and c0 * 1e6, 2)} | "
                       f"{fmt_f(c1 and c1 * 1e6, 2)} |")
    return "\n".join(out) if len(out) > 2 else ""


def machine_facts() -> dict[str, str]:
    model = "?"
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = proc_meminfo_total()
    facts = {
        "nproc": str(os.cpu_count()),
        "CPU model": model,
        "memory": mem,
        "kernel": platform.release(),
        "Python": platform.python_version() + f" ({sys.executable})",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    try:
        import confluent_kafka

        facts["confluent-kafka"] = f"{confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})"
    except ImportError:
        pass
    facts["rdkafka_performance"] = f"librdkafka 2.15.1, {RDKAFKA_PERFORMANCE}"
    return facts


def proc_meminfo_total() -> str:
    try:
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal:"):
                return f"{int(row.split()[1]) / KIB / KIB:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "?"


DOC_NOTES = """\
## What each line measures

Every line runs against each broker in turn, one fresh topic per line and broker (1 partition, replication
factor 1, deleted after the line). Producer lines use librdkafka's `rdkafka_performance` with
`-X linger.ms=5` (its default `linger.ms=1000` hides any broker faster than about 1M msgs/s) and
`-p 0`; msgs/s and MB/s are its own figures: delivered messages (and value bytes, 10^6 bytes per MB) over the
time from the first produce call to the last delivery report.

{line_notes}

Each line runs {repeat} time(s) per broker, alternating brokers; the table shows the repeat with the median
msgs/s (all its columns come from that one repeat) and **spread**, ± half the range of the repeats' msgs/s
relative to the median: lines of about a second on a 2-core machine shared with the client are noisy.

Columns: **broker CPU s** is the broker process's utime+stime (`/proc/PID/stat`, all threads) over the line
and after it until the machine is quiet (a broker that writes its acknowledged data later pays for it here),
**CPU µs/msg** that divided by the message count, the best single measure of the broker's efficiency (the
client competes for the same {nproc} cores). **client / other CPU s** are the CPU seconds of the benchmark
client over the line and of everything else on the machine (all cores' busy time from `/proc/stat` minus
broker and client): a large "other" marks a repeat disturbed by unrelated work. Before each line the harness
calls `sync` and waits until the machine is quiet, so that neither the kernel's writeback of earlier lines nor a
broker's deferred work lands in another broker's line.
**peak RSS** is the broker's VmHWM (`/proc/PID/status`), reset
before the line by writing 5 to `/proc/PID/clear_refs` (a `*` marks a peak since broker start, when the reset
was not possible). **wall msgs/s** is the count over the wall clock around the whole client run (start-up
included). **Brook / best** divides Brook's msgs/s by the fastest peer's on the line (consume lines: wall msgs/s,
since rdkafka_performance's consumer clock starts at the first message; latency lines: the lowest peer p99 by
Brook's p99), and **Brook / best CPU/msg** Brook's CPU per message by the thriftiest peer's (above 1 means Brook
spends more CPU per message).

Tansu runs with `--storage-engine memory://tansu/`: it keeps the log in memory and never writes to disk,
so it has nothing to fsync and the `flush.messages=1` lines are n/a for it (Tansu accepts the topic config
but has no storage it would apply to). Brook writes every line to its log directory in a temporary
directory; the `-flush` lines set the topic config `flush.messages=1`, so each produce request is acknowledged
only after an fsync covering it (group commit across waiting producers).

## Reference figures (from the issue, other machines)

- Tansu: about 2.4M msgs/s producing 100 B messages (240 MB/s), 300 MB/s at 1 KiB, and consumes about
  2.8M msgs/s; synchronous round trips about 4,500/s with p99 about 330 µs.
- noida-db: 770 MB/s producing 1 KiB messages, 11,000 synchronous round trips/s.

These were measured elsewhere, on other hardware; compare against the Tansu rows above (same machine, same run)
rather than against these figures.

## Caveats

The client (`rdkafka_performance` or the Python producer) runs on the same {nproc} cores as the broker, so a
broker that needs little CPU per message is often client-bound: compare CPU µs/msg as well as msgs/s. Other
work on the machine shows in the load averages above. On a virtual machine, writing to page-cache pages that
are new to the guest can cost several times more kernel time than rewriting recycled ones (on the machine of
these figures: about 2.5 s of CPU per GiB against 0.25 s, measured with a plain `pwritev` loop); Brook pays it
in `pwritev`, an in-memory broker when its heap grows.

## Profiling

`--profile DIR` records the Brook broker with py-spy (`.venv/bin/pip install py-spy`; not a project
dependency) during each Brook line, as collapsed stacks (`DIR/LINE.collapsed.txt`, also readable by
speedscope or flamegraph.pl); `--native` adds C frames, `--scale 10` makes the lines long enough to sample
well. Profiling slows the broker, so profiled figures are not comparable. `benchmarks/profile_summary.py
DIR/*.txt` prints the hottest frames:

```sh
.venv/bin/python benchmarks/run.py --brokers brook --only produce-100B-acks1 consume-100B --scale 10 \\
    --repeat 1 --profile /tmp/profile
.venv/bin/python benchmarks/profile_summary.py /tmp/profile/*.collapsed.txt
```
"""


def write_docs(cmdline: str, started: dt.datetime, facts: dict[str, str], table: str, lines: list[Line],
               counts: dict[str, int], sizing: str, repeat: int, broker_notes: list[str]) -> None:
    line_notes = "\n".join(f"- `{ln.name}` ({counts[ln.name]:,} messages): {ln.what}." for ln in lines)
    body = [
        "# Benchmarks",
        "",
        "Brook next to a peer Kafka-compatible broker (Tansu 0.6, Rust, in-memory storage) on the same machine, "
        "in one run of:",
        "",
        "```sh",
        cmdline,
        "```",
        "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC{sizing}.",
        "",
        "| Machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in facts.items()],
        "",
        "## Results",
        "",
        table,
        "",
    ]
    if broker_notes:
        body += ["Broker warnings and errors seen during the run:", "", "```", *broker_notes, "```", ""]
    body.append(DOC_NOTES.format(line_notes=line_notes, nproc=facts.get("nproc", "?"), repeat=repeat))
    # Sections of the other benchmark commands (coordinators, cleaner) follow a marker and are kept.
    old = DOCS.read_text() if DOCS.exists() else ""
    if OTHER_BENCHMARKS in old:
        body += ["", old[old.index(OTHER_BENCHMARKS):].rstrip("\n"), ""]
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text("\n".join(body))


def write_docs_section(title: str, cmdline: str, started: dt.datetime, facts: dict[str, str], table: str,
                       flushes: str, lines: list[Line], counts: dict[str, int], sizing: str, repeat: int,
                       broker_notes: list[str], results: dict[tuple[str, str], Result]) -> None:
    """One `## title` section with this run, leaving every other section of the page as it is."""
    notes = sorted({f"- {r.broker}, `{r.line}`: {n}" for r in results.values() for n in r.notes
                    if not n.startswith("profile")})
    body = [
        f"## {title}", "",
        "```sh", cmdline, "```", "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC{sizing}, {repeat} repeat(s) per line and broker (the median "
        "repeat is shown). **Brook / best** divides Brook's msgs/s by the fastest peer's on the line (on consume "
        "lines: wall msgs/s, see below; on the latency line: the lowest peer p99 by Brook's p99), so above 1 "
        "means Brook leads; **wall msgs/s** is the message count over the wall clock around the whole client run "
        "(process start and connection included): rdkafka_performance's consumer starts its clock at the first "
        "message, which flatters a broker that answers the first fetch with the whole partition (noida-db); "
        "**Brook / best CPU/msg** divides Brook's broker CPU per message by the thriftiest peer's (above 1 means "
        "Brook spends more). The other columns are as in [What each line measures](#what-each-line-measures).", "",
        "| Machine | |", "|---|---|", *[f"| {k} | {v} |" for k, v in facts.items()], "",
        table, "",
    ]
    if flushes:
        body += ["fsync before the ack (`flush.messages=1`) against the same line without:", "", flushes, ""]
    body += ["Lines:", "", *(f"- `{ln.name}` ({counts[ln.name]:,} messages): {ln.what}." for ln in lines), ""]
    if notes:
        body += ["Notes on single results:", "", *notes, ""]
    if broker_notes:
        body += ["Broker warnings and errors seen during the run:", "", "```", *broker_notes[:20], "```", ""]
    section = "\n".join(body)
    old = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start = old.find(f"\n## {title}\n")
    if start < 0:
        DOCS.write_text(old.rstrip("\n") + "\n\n" + section)
        return
    end = old.find("\n## ", start + 1)
    rest = old[end + 1:] if end >= 0 else ""
    DOCS.write_text(old[:start + 1] + section + ("\n" + rest if rest else ""))
