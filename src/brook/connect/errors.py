"""Error handling of a task (Kafka's RetryWithToleranceOperator, LogReporter, DeadLetterQueueReporter).

Each stage of a record (convert, transform, put) runs through execute(): retriable errors are retried with
exponential backoff up to errors.retry.timeout; then, with errors.tolerance=all, the record is skipped, logged
(errors.log.enable) and, for sinks, written as consumed to the dead letter queue with Kafka's __connect.errors.*
context headers; with errors.tolerance=none the task fails ("Tolerance exceeded in error handler").
"""

from __future__ import annotations

import logging
import threading
import time
import traceback

from brook.connect.data import ConnectError, RetriableError

log = logging.getLogger("org.apache.kafka.connect.runtime.errors")
HEADER_PREFIX = "__connect.errors."
INITIAL_BACKOFF_S = 0.3


class Stage:
    KEY_CONVERTER, VALUE_CONVERTER, HEADER_CONVERTER = "KEY_CONVERTER", "VALUE_CONVERTER", "HEADER_CONVERTER"
    TRANSFORMATION, TASK_PUT, TASK_POLL = "TRANSFORMATION", "TASK_PUT", "TASK_POLL"
    KAFKA_PRODUCE, KAFKA_CONSUME = "KAFKA_PRODUCE", "KAFKA_CONSUME"


def java_class(e: BaseException) -> str:
    return getattr(e, "java_class", None) or f"{type(e).__module__}.{type(e).__qualname__}"


def java_trace(e: BaseException) -> str:
    """A stack trace in Java's shape: 'class: message' then the frames."""
    head = f"{java_class(e)}: {e}" if str(e) else java_class(e)
    frames = traceback.format_tb(e.__traceback__)
    text = head + "\n" + "".join("\tat " + f.strip().splitlines()[0] + "\n" for f in frames)
    cause = e.__cause__
    while cause is not None:
        text += f"Caused by: {java_class(cause)}: {cause}\n"
        cause = cause.__cause__
    return text


class Failed:
    """Marker for a record that failed a tolerated stage (Kafka's ProcessingContext.failed())."""


FAILED = Failed()


class ErrorHandler:
    def __init__(self, config: dict, connector: str, task: int, stopping: threading.Event,
                 dlq_send=None) -> None:
        self.retry_timeout_ms = config["errors.retry.timeout"]
        self.max_delay_ms = config["errors.retry.delay.max.ms"]
        self.tolerate_all = config["errors.tolerance"] == "all"
        self.log_enable = config["errors.log.enable"]
        self.log_messages = config["errors.log.include.messages"]
        self.connector, self.task, self.stopping = connector, task, stopping
        self.dlq_send = dlq_send  # callable(raw message, headers) or None
        self.context_headers = False
        self.error_count = 0

    def execute(self, stage: str, executing_class: str, fn, raw=None):
        """fn() with retries and tolerance; FAILED if the record is to be skipped."""
        deadline = None if self.retry_timeout_ms < 0 else time.monotonic() + self.retry_timeout_ms / 1000
        delay = min(INITIAL_BACKOFF_S, self.max_delay_ms / 1000)
        while True:
            try:
                return fn()
            except RetriableError as e:
                now = time.monotonic()
                if (deadline is None or now < deadline) and not self.stopping.is_set():
                    # the last wait ends at the deadline, for one more attempt there (Kafka's backoff)
                    self.stopping.wait(delay if deadline is None else min(delay, deadline - now))
                    delay = min(delay * 2, self.max_delay_ms / 1000)
                    continue
                return self._failed(stage, executing_class, e, raw)
            except ConnectError as e:
                return self._failed(stage, executing_class, e, raw)
            except Exception as e:  # a plugin's own error is tolerated as Kafka tolerates any Exception
                return self._failed(stage, executing_class, e, raw)

    def report_failed(self, stage: str, executing_class: str, e: BaseException, raw) -> None:
        """RetryWithToleranceOperator.executeFailed: an error the task reports itself (the errant record reporter)."""
        self._failed(stage, executing_class, e, raw)

    def _failed(self, stage: str, executing_class: str, e: BaseException, raw) -> Failed:
        self.error_count += 1
        if self.log_enable or not self.tolerate_all:
            where = f"Error encountered in task {self.connector}-{self.task}. Executing stage '{stage}' with class " \
                    f"'{executing_class}'"
            if raw is not None and self.log_messages:
                where += f", where consumed record is {{topic='{raw.topic()}', partition={raw.partition()}, " \
                         f"offset={raw.offset()}, timestamp={raw.timestamp()[1]}}}"
            where += "."
            log.error(where, exc_info=e if self.log_enable else None)
        if not self.tolerate_all:
            err = ConnectError("Tolerance exceeded in error handler")
            raise err from e
        if self.dlq_send is not None and raw is not None:
            self.dlq_send(raw, self.error_headers(stage, executing_class, e, raw) if self.context_headers else [])
        return FAILED

    def error_headers(self, stage: str, executing_class: str, e: BaseException, raw) -> list[tuple[str, bytes]]:
        """DeadLetterQueueReporter.populateContextHeaders."""
        h = [("topic", raw.topic()), ("partition", str(raw.partition())), ("offset", str(raw.offset())),
             ("connector.name", self.connector), ("task.id", str(self.task)), ("stage", stage),
             ("class.name", executing_class), ("exception.class.name", java_class(e)),
             ("exception.message", str(e)), ("exception.stacktrace", java_trace(e))]
        return [(HEADER_PREFIX + k, v.encode()) for k, v in h]
