"""Brook's benchmark: throughput, broker CPU and memory next to peer brokers (Tansu, noida-db), in one command.

    .venv/bin/python benchmarks/run.py [--quick] [--only LINE...] [--brokers brook,tansu,noida]
        [--write-docs | --docs-section TITLE]

Starts a Brook broker (fresh temporary data directory) and, when their binaries exist, the chosen peers (Tansu with
in-memory storage, noida-db's Kafka service with a temporary data directory), then runs each benchmark line against
each broker in turn: librdkafka's `rdkafka_performance` for the produce and consume lines, a confluent-kafka
producer for the per-request (synchronous round trip) line. For every line and broker it reports msgs/s, MB/s, the
broker's CPU seconds over the line (utime+stime from /proc/PID/stat) and its peak RSS during the line (VmHWM from
/proc/PID/status, reset before the line through /proc/PID/clear_refs where the kernel allows it), and Brook against
the best peer on the line. Scaling lines (value size, partitions and producers, idle connections, end-to-end
latency, fsync before the ack) show how each broker's cost grows. Every line has a bounded timeout; a failing line
prints FAILED with its reason and the others still run. `--quick` runs a tenth of the counts as a smoke test.

These are benchmarks, not tests: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_lines import KIB, LINES, Line, Result
from bench_report import (
    DOCS,
    brook_vs_best,
    flush_table,
    machine_facts,
    markdown_table,
    print_result,
    write_docs,
    write_docs_section,
)
from peer_brokers import (
    BINARIES,
    BROKERS,
    REPO,
    Broker,
    BrookBroker,
    children_cpu_seconds,
    create_topic,
    delete_topic,
    machine_busy_seconds,
    proc_cpu_seconds,
    proc_status_kib,
    reset_peak_rss,
)
from perf_clients import (
    RDKAFKA_PERFORMANCE,
    consume_args,
    produce_args,
    run_latency,
    run_producers,
    run_rdkafka_performance,
    run_sync,
    sync_worker,
)
from scaling import IdleConnections, latency_worker

# --------------------------------------------------------------------------------------------------------------
# Running one line against one broker


class Profiler:
    """py-spy record on the broker for the duration of a line (only when --profile is given)."""

    def __init__(self, out_dir: Path | None, broker: Broker, line: Line, native: bool, rate: int) -> None:
        self.proc: subprocess.Popen | None = None
        self.path: Path | None = None
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if out_dir is None or not isinstance(broker, BrookBroker) or not Path(exe).exists():
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / f"{line.name}.collapsed.txt"
        cmd = [exe, "record", "--pid", str(broker.pid), "--format", "raw", "--rate", str(rate),
               "-o", str(self.path)]
        if native:
            cmd.append("--native")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)  # let it attach before the client starts

    def stop(self) -> str:
        if self.proc is None:
            return ""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return f"profile: {self.path}"


def line_timeout(line: Line, n: int, scale: float) -> float:
    if line.kind == "latency":
        return scale * (60 + n / line.rate)
    per_msg = {"produce": 1 / 4_000, "consume": 1 / 10_000, "sync": 1 / 200}[line.kind]
    if line.size > 200:
        per_msg *= 2 * line.size / KIB
    return scale * (60 + line.partitions / 20 + n * per_msg)


QUIET_WAIT_S = 20.0  # how long a run waits for the machine to go quiet
QUIET_BUSY = 0.05  # quiet: the machine's cores busy for at most this share of one core over QUIET_WINDOW_S
QUIET_WINDOW_S = 0.25


def wait_for_quiet_machine() -> bool:
    """Wait (at most QUIET_WAIT_S) until nothing runs: a broker that acknowledges before it writes (noida-db)
    writes its last run's data afterwards, and that work must not land in the next broker's run."""
    deadline = time.monotonic() + QUIET_WAIT_S
    while time.monotonic() < deadline:
        before = machine_busy_seconds()
        if before is None:
            return True
        time.sleep(QUIET_WINDOW_S)
        after = machine_busy_seconds()
        if after is not None and after - before <= QUIET_BUSY * QUIET_WINDOW_S:
            return True
    return False


def run_line(line: Line, broker: Broker, n: int, timeout_scale: float, profile_dir: Path | None = None,
             native: bool = False, profile_rate: int = 250) -> Result:
    res = Result(line.name, broker.name)
    if line.flush and not broker.supports_flush:
        res.na = broker.flush_na
        return res
    if line.flush and broker.flush_note:
        res.notes.append(broker.flush_note)
    timeout = line_timeout(line, n, timeout_scale)
    topic = f"bench-{line.name}-{uuid.uuid4().hex[:8]}"
    idle: IdleConnections | None = None
    try:
        if not broker.alive():
            broker.restarts += 1
            res.notes.append(f"{broker.name} was not running (exit {broker.proc.returncode}); restarted it")
            broker.start()
        config = {"flush.messages": "1"} if line.flush else {}
        create_topic(broker.bootstrap, topic, config, timeout=30 + line.partitions / 10, partitions=line.partitions)
        if line.kind == "consume":  # fill the partition first; not measured
            fill = Line("fill", "produce", n, line.size)
            filled, _ = run_rdkafka_performance(produce_args(broker.bootstrap, topic, n, line.size, "1"),
                                                line_timeout(fill, n, timeout_scale))
            if filled["msgs"] < n:
                raise RuntimeError(f"filling the topic delivered only {filled['msgs']:.0f} of {n} messages")
        if line.idle:
            idle = IdleConnections("127.0.0.1", broker.port, line.idle)
        # Whatever earlier lines (or a consume line's fill) left dirty in the page cache is written out now, not
        # by the kernel's writeback threads during this line, where it would take CPU from whichever broker
        # and client run then (the "other" column).
        os.sync()
        if not wait_for_quiet_machine():
            res.notes.append(f"the machine was still busy {QUIET_WAIT_S:.0f} s after the previous run (another "
                             f"broker's deferred work?): this run shares the CPU with it")
        pid = broker.pid
        res.rss_reset = reset_peak_rss(pid)
        cpu0 = proc_cpu_seconds(pid)
        busy0, client0 = machine_busy_seconds(), children_cpu_seconds()
        profiler = Profiler(profile_dir, broker, line, native, profile_rate)
        t0 = time.monotonic()
        try:
            if line.kind == "sync":
                sync = run_sync(broker.bootstrap, topic, n, line.size, line.acks, timeout)
                res.msgs = n
                res.seconds = sync["seconds"]
                res.msgs_per_s = n / sync["seconds"]
                res.mb_per_s = res.msgs_per_s * line.size / 1e6
                res.p50_us, res.p99_us = sync["p50_us"], sync["p99_us"]
            elif line.kind == "latency":
                lat = run_latency(broker, topic, n, line, timeout)
                res.msgs, res.seconds = n, lat["seconds"]
                res.msgs_per_s = n / lat["seconds"]
                res.mb_per_s = res.msgs_per_s * line.size / 1e6
                res.p50_us, res.p99_us, res.p999_us = lat["p50_us"], lat["p99_us"], lat["p999_us"]
            else:
                if line.kind == "produce":
                    stats = run_producers(broker.bootstrap, topic, n, line, timeout)
                else:
                    args = consume_args(broker.bootstrap, topic, n, broker.consumer_config)
                    stats, _ = run_rdkafka_performance(args, timeout)
                res.msgs = int(stats["msgs"])
                res.seconds = stats["ms"] / 1000
                res.msgs_per_s, res.mb_per_s = stats["msgs_per_s"], stats["mb_per_s"]
                if stats["errors"]:
                    raise RuntimeError(f"{stats['errors']:.0f} messages failed ({res.msgs} ok)")
                if res.msgs < n:
                    raise RuntimeError(f"only {res.msgs} of {n} messages {line.kind}d")
        finally:
            res.wall = time.monotonic() - t0
            cpu1 = proc_cpu_seconds(pid)
            res.cpu_s = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
            busy1, res.client_cpu_s = machine_busy_seconds(), children_cpu_seconds() - client0
            if res.cpu_s is not None and busy0 is not None and busy1 is not None:
                res.other_cpu_s = max(0.0, busy1 - busy0 - res.cpu_s - res.client_cpu_s)
            if res.cpu_s is not None and cpu1 is not None:
                # work the broker put off until after its client finished (a write-behind) is its cost too
                wait_for_quiet_machine()
                cpu2 = proc_cpu_seconds(pid)
                if cpu2 is not None and cpu2 - cpu1 >= 0.01:
                    res.cpu_s += cpu2 - cpu1
                    res.notes.append(f"broker CPU includes {cpu2 - cpu1:.2f} s after its client finished")
            res.rss_peak_kib = proc_status_kib(pid, "VmHWM")
            if idle is not None:
                open_ = idle.alive()
                if open_ < line.idle:
                    res.notes.append(f"the broker closed {line.idle - open_} of the {line.idle} idle connections")
            note = profiler.stop()
            if note:
                res.notes.append(note)
        res.ok = True
    except Exception as e:  # noqa: BLE001 - one failed line must not stop the others
        res.error = f"{type(e).__name__}: {e}"
        if not broker.alive():
            res.error += f" (broker {broker.name} died, exit {broker.proc.returncode})"
    finally:
        if idle is not None:
            idle.close()
        if broker.alive():
            why = delete_topic(broker.bootstrap, topic)
            if why:
                res.notes.append(f"deleting topic {topic} failed: {why}")
    return res


def median_result(runs: list[Result]) -> Result:
    """The repeat with the median msgs/s stands for the line; the spread of all repeats goes into `spread`."""
    ok = sorted((r for r in runs if r.ok), key=lambda r: r.msgs_per_s)
    if not ok:
        return runs[0]
    best = ok[(len(ok) - 1) // 2]
    best.repeats = [r.msgs_per_s for r in runs if r.ok]
    failed = [r for r in runs if not r.ok and not r.na]
    if failed:
        best.notes.append(f"{len(failed)} of {len(runs)} repeats FAILED, first: {failed[0].error}")
    for r in runs:
        best.notes += [n for n in r.notes if n not in best.notes and not n.startswith("profile")]
    return best


def warm_up(broker: Broker) -> str:
    """An untimed produce and consume, so the first line does not pay for first connections, imports and
    allocator growth."""
    topic = f"bench-warmup-{uuid.uuid4().hex[:8]}"
    try:
        create_topic(broker.bootstrap, topic)
        run_rdkafka_performance(produce_args(broker.bootstrap, topic, 50_000, 100, "1"), 120)
        run_rdkafka_performance(consume_args(broker.bootstrap, topic, 50_000, broker.consumer_config), 120)
        return ""
    except Exception as e:  # noqa: BLE001
        return f"warm-up failed: {type(e).__name__}: {e}"
    finally:
        if broker.alive():
            delete_topic(broker.bootstrap, topic)


# --------------------------------------------------------------------------------------------------------------


def select_lines(only: list[str] | None) -> list[Line]:
    if not only:
        return LINES
    chosen = []
    for pat in only:
        hits = [ln for ln in LINES if fnmatch.fnmatchcase(ln.name, pat) or ln.name == pat]
        if not hits:
            names = ", ".join(ln.name for ln in LINES)
            raise SystemExit(f"--only {pat}: no such line (lines: {names})")
        chosen += [h for h in hits if h not in chosen]
    return [ln for ln in LINES if ln in chosen]


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--sync-worker"]:
        bootstrap, topic, n, size, acks = argv[1:6]
        sync_worker(bootstrap, topic, int(n), int(size), acks)
        return 0
    if argv[:1] == ["--latency-worker"]:
        bootstrap, topic, n, size, rate, extra = argv[1:7]
        latency_worker(bootstrap, topic, int(n), int(size), int(rate), json.loads(extra))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="lines: " + ", ".join(ln.name for ln in LINES))
    ap.add_argument("--quick", action="store_true", help="a tenth of the counts (smoke run)")
    ap.add_argument("--only", nargs="+", metavar="LINE", help="run only these lines (names or shell patterns)")
    ap.add_argument("--brokers", default="brook,tansu", help="comma-separated: brook, tansu, noida (default "
                    "brook,tansu)")
    ap.add_argument("--write-docs", action="store_true", help=f"rewrite {DOCS.relative_to(REPO)} with the results")
    ap.add_argument("--docs-section", metavar="TITLE", help=f"write the results as the section '## TITLE' of "
                    f"{DOCS.relative_to(REPO)} (replacing a section of that title, else appended), keeping the rest")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every line's message count (e.g. for "
                    "longer profiles)")
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every line's timeout")
    ap.add_argument("--profile", metavar="DIR", type=Path,
                    help="record py-spy collapsed stacks of the Brook broker per line into DIR (skews the figures)")
    ap.add_argument("--native", action="store_true", help="with --profile: include native (C) frames")
    ap.add_argument("--profile-rate", type=int, default=250, help="with --profile: samples per second")
    ap.add_argument("--repeat", type=int, help="runs per line and broker, the median is reported "
                    "(default 3, with --quick 1)")
    ap.add_argument("--brook-override", action="append", default=[], metavar="KEY=VALUE",
                    help="a broker setting for Brook's broker (repeatable), e.g. brook.idle.poll.us=0")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory and logs")
    args = ap.parse_args(argv)

    lines = select_lines(args.only)
    repeat = max(1, args.repeat if args.repeat is not None else (1 if args.quick else 3))
    counts = {ln.name: ln.n(args.quick, args.scale) for ln in lines}
    sizing = (" (quick: a tenth of the counts)" if args.quick else "") + (
        f" (counts scaled by {args.scale:g})" if args.scale != 1 else "")
    wanted = [b.strip() for b in args.brokers.split(",") if b.strip()]
    unknown = set(wanted) - set(BROKERS)
    if unknown:
        raise SystemExit(f"--brokers: unknown {', '.join(sorted(unknown))} (known: {', '.join(BROKERS)})")
    if not RDKAFKA_PERFORMANCE.exists() and any(ln.kind != "sync" for ln in lines):
        print(f"rdkafka_performance not found at {RDKAFKA_PERFORMANCE}: run ../shared/conformance/setup.sh; "
              "its lines will fail", flush=True)

    started = dt.datetime.now(dt.UTC)
    workdir = Path(tempfile.mkdtemp(prefix="brook-bench-"))
    brokers: list[Broker] = []
    failed_start: dict[str, str] = {}
    for name in wanted:
        if name in BINARIES and not BINARIES[name].exists():
            print(f"{name} binary not found at {BINARIES[name]}: skipping it (../shared/conformance/setup.sh "
                  "installs it)", flush=True)
            continue
        b = BROKERS[name](workdir)
        if isinstance(b, BrookBroker):
            b.overrides = tuple(args.brook_override)
        try:
            b.start()
            print(f"{name}: pid {b.pid}, {b.bootstrap}, log {b.log_path}", flush=True)
            if RDKAFKA_PERFORMANCE.exists():
                why = warm_up(b)
                if why:
                    print(f"{name}: {why}", flush=True)
            brokers.append(b)
        except Exception as e:  # noqa: BLE001
            failed_start[name] = f"{type(e).__name__}: {e}"
            print(f"{name}: FAILED to start: {failed_start[name]}", flush=True)
            b.stop()
    facts = machine_facts()
    for b in brokers:
        if b.name != "brook":
            facts[f"peer {b.name}"] = b.version()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in facts.items()), flush=True)

    results: dict[tuple[str, str], Result] = {}
    try:
        for line in lines:
            print(f"\n{line.name}: {counts[line.name]:,} messages - {line.what}", flush=True)
            for name, why in failed_start.items():
                r = Result(line.name, name, error=f"broker did not start: {why}")
                results[(line.name, name)] = r
                print_result(r)
            runs: dict[str, list[Result]] = {b.name: [] for b in brokers}
            for i in range(repeat):
                if repeat > 1:
                    print(f" repeat {i + 1}/{repeat}", flush=True)
                for b in brokers:
                    if runs[b.name] and runs[b.name][0].na:
                        continue
                    r = run_line(line, b, counts[line.name], args.timeout_scale, args.profile if i == 0 else None,
                                 args.native, args.profile_rate)
                    runs[b.name].append(r)
                    print_result(r)
            for b in brokers:
                r = results[(line.name, b.name)] = median_result(runs[b.name])
                if repeat > 1 and not r.na:
                    print(f"  {b.name:<6} median: ", end="")
                    print_result(r, indent=False)
            speed, cpu = brook_vs_best(line, results, [b.name for b in brokers])
            if speed:
                print(f"  Brook / best: {speed}, CPU/msg {cpu}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
    finally:
        for b in brokers:
            b.stop()

    facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    names = [n for n in wanted if any(k[1] == n for k in results)]
    table = markdown_table(lines, results, names, counts)
    print("\n" + table + "\n")
    flushes = flush_table(lines, results, names)
    if flushes:
        print(flushes + "\n")

    broker_notes: list[str] = []
    for b in brokers:
        errs = b.error_lines()
        if b.proc is not None and b.proc.returncode not in (0, None, -signal.SIGINT, -signal.SIGTERM):
            errs.append(f"{b.name} exited with {b.proc.returncode}")
        if errs:
            broker_notes += [f"[{b.name}] {e}" for e in errs]
    if broker_notes:
        print("Broker warnings and errors (logs under " + str(workdir) + "):")
        print("\n".join(broker_notes))
    else:
        print("No WARN or ERROR lines in the broker logs.")

    if args.write_docs:
        cmdline = ".venv/bin/python benchmarks/run.py " + shlex.join(argv)
        write_docs(cmdline.strip(), started, facts, table, lines, counts, sizing, repeat, broker_notes)
        print(f"wrote {DOCS}")
    if args.docs_section:
        cmdline = ".venv/bin/python benchmarks/run.py " + shlex.join(argv)
        write_docs_section(args.docs_section, cmdline.strip(), started, facts, table, flushes, lines, counts,
                           sizing, repeat, broker_notes, results)
        print(f"wrote the section '{args.docs_section}' of {DOCS}")

    if args.keep or broker_notes:
        for d in workdir.glob("brook-data-*"):
            if not args.keep:
                shutil.rmtree(d, ignore_errors=True)
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(r.ok or r.na for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
