"""FileStreamSource and FileStreamSink (org.apache.kafka.connect.file): Kafka's quickstart connectors.

The source reads lines from a file (or stdin), its offset the byte position after each line; the sink appends
each record's value as a line (String.valueOf, as Java's PrintStream.println writes it).
"""

from __future__ import annotations

import io
import logging
import sys
import threading

from brook.connect.api import SinkConnector, SinkTask, SourceConnector, SourceRecord, SourceTask
from brook.connect.configdef import ConfigDef, Key, non_empty_string
from brook.connect.data import STRING_SCHEMA, ConnectError, java_str

log = logging.getLogger("org.apache.kafka.connect.file")
FILENAME_FIELD, POSITION_FIELD = "filename", "position"

SOURCE_CONFIG = ConfigDef(
    Key("file", "STRING", None, "Source filename. If not specified, the standard input will be used"),
    Key("topic", "STRING", doc="The topic to publish data to", validator=non_empty_string),
    Key("batch.size", "INT", 2000, "The maximum number of records the source task can read from the file each "
        "time it is polled", importance="LOW"),
)
SINK_CONFIG = ConfigDef(
    Key("file", "STRING", None, "Destination filename. If not specified, the standard output will be used"),
)


class FileStreamSourceConnector(SourceConnector):
    CONFIG_DEF = SOURCE_CONFIG

    def start(self, props):
        super().start(props)
        SOURCE_CONFIG.parse(props)
        log.info("Starting file source connector reading from %s", props.get("file") or "standard input")

    def task_class(self):
        return FileStreamSourceTask

    def task_configs(self, max_tasks):
        return [dict(self.props)]  # only one input stream makes sense


class FileStreamSourceTask(SourceTask):
    def __init__(self) -> None:
        super().__init__()
        self._stopping = threading.Event()
        self._stream: io.BufferedIOBase | None = None
        self._buffer = b""
        self._offset: int | None = None

    def start(self, props):
        cfg = SOURCE_CONFIG.parse(props)
        self.filename = cfg["file"] or None
        self.topic = cfg["topic"]
        self.batch_size = cfg["batch.size"]
        if self.filename is None:
            self._stream = sys.stdin.buffer

    def _open(self) -> bool:
        try:
            stream = open(self.filename, "rb")
        except FileNotFoundError:
            log.warning("Couldn't find file %s for FileStreamSourceTask, sleeping to wait for it to be created",
                        self.filename)
            return False
        except OSError as e:
            raise ConnectError(str(e)) from e
        last = self.context.offset_storage_reader.offset({FILENAME_FIELD: self.filename}) \
            if self.context.offset_storage_reader else None
        position = (last or {}).get(POSITION_FIELD)
        if position is not None and not isinstance(position, int):
            raise ConnectError("Offset position is the incorrect type")
        self._offset = position or 0
        stream.seek(self._offset)
        self._stream = stream
        return True

    def poll(self) -> list[SourceRecord] | None:
        if self._stream is None and not self._open():
            self._stopping.wait(1.0)
            return None
        assert self._stream is not None  # there already, or _open() set it
        try:
            chunk = self._stream.read1(65536)
        except (ValueError, OSError):
            return None  # stop() closed the stream under this poll
        if not chunk:
            self._stopping.wait(0.2)  # Kafka's task waits 1 s for more data; stop() wakes it
            return None
        self._buffer += chunk
        records: list[SourceRecord] = []
        while len(records) < self.batch_size:
            line = self._extract_line()
            if line is None:
                break
            records.append(SourceRecord(self.topic, None, None, None, STRING_SCHEMA, line,
                                        source_partition={FILENAME_FIELD: self.filename},
                                        source_offset={POSITION_FIELD: self._offset}))
        return records or None

    def _extract_line(self) -> str | None:
        buf = self._buffer
        nl, cr = buf.find(b"\n"), buf.find(b"\r")
        if nl < 0 and cr < 0:
            return None
        if cr >= 0 and (nl < 0 or cr < nl):
            if cr + 1 >= len(buf):
                return None  # a \r at the end may be the start of \r\n
            i, end = cr, cr + 2 if buf[cr + 1] == 0x0A else cr + 1
        else:
            i, end = nl, nl + 1
        self._buffer = buf[end:]
        if self._offset is not None and self.filename is not None:
            self._offset += end
        return buf[:i].decode("utf-8", "replace")

    def stop(self):
        self._stopping.set()
        if self._stream is not None and self.filename is not None:
            self._stream.close()


class FileStreamSinkConnector(SinkConnector):
    CONFIG_DEF = SINK_CONFIG

    def start(self, props):
        super().start(props)
        log.info("Starting file sink connector writing to %s", props.get("file") or "standard output")

    def task_class(self):
        return FileStreamSinkTask

    def task_configs(self, max_tasks):
        return [dict(self.props) for _ in range(max_tasks)]


class FileStreamSinkTask(SinkTask):
    def start(self, props):
        self.filename = SINK_CONFIG.parse(props)["file"] or None
        if self.filename is None:
            self._out = sys.stdout.buffer
        else:
            try:
                self._out = open(self.filename, "ab")
            except OSError as e:
                raise ConnectError(f"Couldn't find or create file '{self.filename}' for FileStreamSinkTask") from e

    def put(self, records):
        self._out.write(b"".join((java_str(r.value) + "\n").encode() for r in records))

    def flush(self, offsets):
        self._out.flush()

    def stop(self):
        if self.filename is not None and getattr(self, "_out", None) is not None:
            self._out.close()
