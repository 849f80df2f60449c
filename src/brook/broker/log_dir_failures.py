"""Writes that fail on a log dir (a full disk, an I/O error).

Kafka's LogDirFailureChannel takes such a dir offline (KIP-112) until the broker restarts. Brook keeps it
online: reads go on, each write is tried again, and a write that fails answers KAFKA_STORAGE_ERROR (the
coordinators map it as Kafka does). The log gets one ERROR line when a dir starts failing and one INFO line when
writes succeed there again, not a line per request; a dir that flaps (a nearly full disk takes a small batch,
then refuses the next) is reported at most once a minute."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from brook.errors import ErrorCode, KafkaError

log = logging.getLogger("kafka.server.LogDirFailureChannel")
REPORT_INTERVAL_S = 60.0


class LogDirFailures:
    def __init__(self) -> None:
        self.failing: dict[str, bool] = {}  # log dir -> whether its current failure was reported
        self._reported_at: dict[str, float] = {}

    def failed(self, log_dir: Path, what: str, error: OSError) -> KafkaError:
        """Note a failed write (`what`: "appending records to t-0") and return the KafkaError to answer."""
        key = str(log_dir)
        message = f"Error while {what} in dir {key}"
        if not self.failing.get(key):
            now = time.monotonic()
            report = now - self._reported_at.get(key, -REPORT_INTERVAL_S) >= REPORT_INTERVAL_S
            self.failing[key] = report
            if report:
                self._reported_at[key] = now
                log.error("%s: %s. Writes to this dir answer KAFKA_STORAGE_ERROR until they succeed again; "
                          "reads go on", message, error.strerror or error)
        return KafkaError(ErrorCode.kafka_storage_error, message)

    def succeeded(self, log_dir: Path) -> None:
        """A write to `log_dir` worked (callers check `failing` first, so this costs nothing normally)."""
        if self.failing.pop(str(log_dir), False):
            log.info("Writes to log dir %s succeed again", log_dir)
