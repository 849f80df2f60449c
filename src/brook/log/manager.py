"""LogManager: the log.dirs, their <topic>-<partition> directories, checkpoint files and meta.properties."""

from __future__ import annotations

import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from .checkpoint import read_offsets, write_offsets
from .config import LogConfig
from .log import Log

log = logging.getLogger("kafka.log.LogManager")

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
RECOVERY_POINT_FILE = "recovery-point-offset-checkpoint"
LOG_START_FILE = "log-start-offset-checkpoint"
HIGH_WATERMARK_FILE = "replication-offset-checkpoint"
_PARTITION_DIR = re.compile(r"^(.+)-(\d+)$")


def partition_metadata_text(topic_id: uuid.UUID) -> str:
    import base64

    encoded = base64.urlsafe_b64encode(topic_id.bytes).decode().rstrip("=")
    return f"version: 0\ntopic_id: {encoded}\n"


class LogManager:
    def __init__(self, log_dirs: list[str], broker_id: int, cluster_id: str) -> None:
        self.dirs = [Path(d).resolve() for d in log_dirs]
        self.broker_id = broker_id
        self.cluster_id = cluster_id
        self.logs: dict[tuple[str, int], Log] = {}
        self._dir_of: dict[tuple[str, int], Path] = {}
        self.was_clean = True

    def startup(self, config_for: Callable[[str], LogConfig]) -> None:
        """Load every partition directory; config_for(topic) gives its LogConfig."""
        start = time.monotonic()
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)
            self._write_meta_properties(d)
            marker = d / CLEAN_SHUTDOWN_FILE
            clean = marker.exists()
            self.was_clean = self.was_clean and clean
            recovery = read_offsets(d / RECOVERY_POINT_FILE)
            starts = read_offsets(d / LOG_START_FILE)
            hws = read_offsets(d / HIGH_WATERMARK_FILE)
            for p in sorted(d.iterdir()):
                if not p.is_dir():
                    continue
                if p.name.endswith("-delete"):
                    shutil.rmtree(p, ignore_errors=True)
                    continue
                m = _PARTITION_DIR.match(p.name)
                if not m:
                    continue
                tp = (m.group(1), int(m.group(2)))
                lg = Log(p, tp[0], tp[1], config_for(tp[0]), clean_shutdown=clean,
                         recovery_point=recovery.get(tp, 0), log_start_offset=starts.get(tp, 0),
                         high_watermark=hws.get(tp, 0))
                if lg.recovered_bytes:
                    log.warning("Recovered log %s-%d: truncated %d bytes of a torn tail", tp[0], tp[1],
                                lg.recovered_bytes)
                self.logs[tp] = lg
                self._dir_of[tp] = d
            marker.unlink(missing_ok=True)
        log.info("Loaded %d logs in %d ms (clean shutdown: %s)", len(self.logs),
                 (time.monotonic() - start) * 1000, self.was_clean)

    def _write_meta_properties(self, d: Path) -> None:
        path = d / "meta.properties"
        if path.exists():
            return
        path.write_text(f"#\n#{time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime())}\n"
                        f"cluster.id={self.cluster_id}\nversion=0\nbroker.id={self.broker_id}\n")

    def read_cluster_id(self) -> str | None:
        for d in self.dirs:
            path = d / "meta.properties"
            if path.exists():
                for line in path.read_text().splitlines():
                    if line.startswith("cluster.id="):
                        return line.split("=", 1)[1]
        return None

    def get(self, topic: str, partition: int) -> Log | None:
        return self.logs.get((topic, partition))

    def create(self, topic: str, partition: int, topic_id: uuid.UUID, config: LogConfig) -> Log:
        tp = (topic, partition)
        if tp in self.logs:
            return self.logs[tp]
        # New partitions go to the log dir holding the fewest, as Kafka picks.
        counts = {d: 0 for d in self.dirs}
        for d in self._dir_of.values():
            counts[d] += 1
        d = min(self.dirs, key=lambda x: counts[x])
        path = d / f"{topic}-{partition}"
        lg: Log | None = None
        try:
            lg = Log(path, topic, partition, config)
            (path / "partition.metadata").write_text(partition_metadata_text(topic_id))
        except OSError:  # a full disk: leave no half-made partition dir behind for the next start to load
            if lg is not None:
                lg.close()
            shutil.rmtree(path, ignore_errors=True)
            raise
        self.logs[tp] = lg
        self._dir_of[tp] = d
        return lg

    def delete(self, topic: str, partition: int) -> None:
        tp = (topic, partition)
        lg = self.logs.pop(tp, None)
        self._dir_of.pop(tp, None)
        if lg is None:
            return
        lg.close()
        # Kafka renames to <tp>.<uuid>-delete first, so a crash mid-delete leaves nothing that loads.
        target = lg.directory.with_name(f"{lg.directory.name}.{uuid.uuid4().hex}-delete")
        lg.directory.rename(target)
        shutil.rmtree(target, ignore_errors=True)

    def dir_of(self, topic: str, partition: int) -> Path:
        return self._dir_of[(topic, partition)]

    def expire_producers(self, now_ms: int, expiration_ms: int) -> None:
        """producer.id.expiration.ms: forget producers idle that long (their dedup state) in every log."""
        for lg in list(self.logs.values()):
            if lg.producer_state.producers:
                lg.producer_state.expire(now_ms, expiration_ms)

    def checkpoint(self) -> None:
        for d in self.dirs:
            mine = {tp: lg for tp, lg in self.logs.items() if self._dir_of[tp] == d}
            write_offsets(d / RECOVERY_POINT_FILE, {tp: lg.recovery_point for tp, lg in mine.items()})
            write_offsets(d / LOG_START_FILE, {tp: lg.log_start_offset for tp, lg in mine.items()})
            write_offsets(d / HIGH_WATERMARK_FILE, {tp: lg.high_watermark for tp, lg in mine.items()})

    def flush_all(self) -> None:
        for lg in self.logs.values():
            lg.flush()

    def shutdown(self) -> None:
        self.flush_all()
        self.checkpoint()
        for lg in self.logs.values():
            lg.close(snapshot=True)
        for d in self.dirs:
            (d / CLEAN_SHUTDOWN_FILE).write_text("")
