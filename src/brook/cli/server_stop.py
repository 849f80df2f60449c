"""kafka-server-stop: Kafka's bin/kafka-server-stop.sh (Kafka 3.9) for Brook: signal every running Brook broker
(`python -m brook ...` or the kafka-server-start console script), or with --node-id=N / --process-role=R only those
whose config file or --override sets node.id / process.roles to that value. SIGNAL (default TERM) picks the signal."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from brook.cli.options import entry_point


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def is_broker(argv: list[str]) -> bool:
    if any(argv[i] == "-m" and argv[i + 1] == "brook" for i in range(len(argv) - 1)):
        return True
    return any(os.path.basename(a) in ("kafka-server-start", "kafka-server-start.sh") for a in argv[:2])


def broker_setting(argv: list[str], key: str) -> str | None:
    """The broker's `key`: an --override wins, else the config file (the last argument that is not an option)."""
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--override" and i + 1 < len(argv) else arg
        if arg in ("--override",) or (i > 0 and argv[i - 1] == "--override"):
            if value.startswith(key + "="):
                return value.split("=", 1)[1]
    configs = [a for i, a in enumerate(argv) if a.endswith(".properties") and argv[i - 1] != "--override"]
    if configs:
        try:
            with open(configs[-1], encoding="utf-8") as f:
                for line in f:
                    if line.startswith(key + "="):
                        return line.split("=", 1)[1].strip()
        except OSError:
            return None
    return None


def brokers() -> list[tuple[int, list[str]]]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            argv = _cmdline(int(entry))
            if argv and is_broker(argv):
                found.append((int(entry), argv))
    return sorted(found)


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    args = " ".join(sys.argv[1:] if argv is None else argv).split()
    role = next((a.split("=", 1)[1] for a in args if a.startswith("--process-role=")), "")
    node = next((a.split("=", 1)[1] for a in args if a.startswith("--node-id=")), "")
    if node and role:
        print("When both node-id and process-role are provided, the value for node-id will take precedence")
    name = os.environ.get("SIGNAL", "TERM").upper().removeprefix("SIG")
    sig = getattr(signal, "SIG" + name, None) if not name.isdigit() else signal.Signals(int(name))
    if sig is None:
        print(f"kill: unknown signal: SIG{name}", file=sys.stderr)
        return 1
    found = brokers()
    if not found:
        print("No kafka server to stop")
        return 1
    for pid, cmd in found:
        if node and broker_setting(cmd, "node.id") != node:
            continue
        if not node and role and broker_setting(cmd, "process.roles") != role:
            continue
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
