"""WorkerTask: one task of a connector on its own thread (Kafka's WorkerTask): start, run, pause, stop, and
status reports (RUNNING, PAUSED, FAILED with the trace, UNASSIGNED once stopped)."""

from __future__ import annotations

import logging
import threading
import time

from brook.connect.api import OffsetStorageReader, TaskContext
from brook.connect.chain import build_chain
from brook.connect.errors import FAILED, ErrorHandler, Stage, java_trace

log = logging.getLogger("org.apache.kafka.connect.runtime.WorkerTask")


class WorkerTask(threading.Thread):
    def __init__(self, worker, connector: str, index: int, connector_props: dict[str, str],
                 connector_config: dict, task_props: dict[str, str], task_class: type, paused: bool) -> None:
        super().__init__(name=f"task-thread-{connector}-{index}", daemon=True)
        self.worker, self.connector, self.index = worker, connector, index
        self.label = f"WorkerTask{{id={connector}-{index}}}"
        self.connector_props, self.cfg, self.task_props = connector_props, connector_config, task_props
        self.task = task_class()
        self.stopping = threading.Event()
        self.next_commit = time.monotonic() + worker.config["offset.flush.interval.ms"] / 1000
        self._resumed = threading.Event()
        if not paused:
            self._resumed.set()
        self.offsets = worker.offsets
        self.errors = ErrorHandler(connector_config, connector, index, self.stopping)
        self.stages = build_chain(worker.plugins, connector_props)
        self.key_converter_class, self.key_converter = worker.converter("key", connector_props)
        self.value_converter_class, self.value_converter = worker.converter("value", connector_props)
        self.header_converter_class, self.header_converter = worker.converter("header", connector_props)

    def client_id(self, kind: str) -> str:
        return f"connector-{kind}-{self.connector}-{self.index}"

    # lifecycle, driven by the herder
    def pause(self) -> None:
        self._resumed.clear()
        self.worker.task_status(self.connector, self.index, "PAUSED")

    def resume(self) -> None:
        self._resumed.set()
        self.worker.task_status(self.connector, self.index, "RUNNING")

    def paused(self) -> bool:
        """True (after a short wait) while paused, so loops keep servicing their clients."""
        if self._resumed.is_set():
            return False
        self._resumed.wait(0.1)
        self.on_paused()
        return True

    def on_paused(self) -> None:
        pass

    def stop(self) -> None:
        self.stopping.set()
        self._resumed.set()
        if self.stop_from_caller:
            self._stop_task()

    # A source task is stopped from the caller's thread so that stop() can interrupt a blocked poll(); a sink task
    # from its own thread, after its last flush and commit (as Kafka's WorkerSourceTask and WorkerSinkTask do).
    stop_from_caller = True

    def _stop_task(self) -> None:
        try:
            self.task.stop()
        except Exception:
            log.exception("%s Task threw an uncaught exception while being stopped", self.label)

    def commit_due(self) -> bool:
        """True once per offset.flush.interval.ms (WorkerTask's commit schedule)."""
        now = time.monotonic()
        if now < self.next_commit:
            return False
        self.next_commit = now + self.worker.config["offset.flush.interval.ms"] / 1000
        return True

    def transform(self, record, raw=None):
        """The chain, each transformation its own error-handled stage; None if dropped, FAILED if skipped."""
        for stage in self.stages:
            record = self.errors.execute(Stage.TRANSFORMATION, stage.class_name, lambda r=record, s=stage: s.apply(r),
                                         raw)
            if record is None or record is FAILED:
                return record
        return record

    def run(self) -> None:
        failed = False
        try:
            self.setup()
            self.task.initialize(TaskContext(OffsetStorageReader(self.offsets, self.connector),
                                             errant_record_reporter=self.errant_record_reporter()))
            self.task.start(self.task_props)
            log.info("%s Executing source task" if hasattr(self, "producer") else "%s Executing sink task",
                     self.label)
            self.worker.task_status(self.connector, self.index, "RUNNING" if self._resumed.is_set() else "PAUSED")
            self.execute()
        except Exception as e:
            failed = True
            log.error("%s Task threw an uncaught and unrecoverable exception. Task is being killed and will not "
                      "recover until manually restarted", self.label, exc_info=e)
            self.worker.task_status(self.connector, self.index, "FAILED", java_trace(e))
        finally:
            try:
                if hasattr(self, "producer") or hasattr(self, "consumer"):
                    self.close(failed)
            except Exception:
                log.exception("%s Failed to close cleanly", self.label)
            finally:
                if not self.stop_from_caller or not self.stopping.is_set():
                    self._stop_task()
                self.release()
            if not failed:
                self.worker.task_status(self.connector, self.index, "UNASSIGNED")

    def setup(self) -> None:
        raise NotImplementedError

    def errant_record_reporter(self):
        return None

    def execute(self) -> None:
        raise NotImplementedError

    def close(self, failed: bool) -> None:
        pass

    def release(self) -> None:
        for stage in self.stages:
            stage.transform.close()  # type: ignore[attr-defined]
