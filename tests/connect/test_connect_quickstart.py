"""Kafka's Connect quickstart as written: file source -> connect-test -> file sink, with config/'s own files."""

from __future__ import annotations

import pytest
from conftest import module_broker
from connect_helpers import REPO, ConnectProcess, consume_all, wait_for, worker_props

from brook.connect.javaser import load_map


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    with module_broker(tmp_path_factory, "connect-quickstart") as b:
        yield b


def test_quickstart_file_source_to_topic_to_file_sink(broker, tmp_path):
    offsets = tmp_path / "connect.offsets"
    props = worker_props(tmp_path / "connect-standalone.properties", broker.bootstrap, offsets,
                         **{"offset.flush.interval.ms": "500"})
    (tmp_path / "test.txt").write_text("foo\nbar\n")
    args = (str(props), str(REPO / "config/connect-file-source.properties"),
            str(REPO / "config/connect-file-sink.properties"))
    worker = ConnectProcess(tmp_path, *args, script="bin/connect-standalone.sh").start()
    sink = tmp_path / "test.sink.txt"
    try:
        wait_for(lambda: sink.exists() and sink.read_text() == "foo\nbar\n", what="the sink file")
        # Kafka's quickstart shows the JsonConverter envelope on the topic
        msgs = consume_all(broker.bootstrap, "connect-test", 2)
        assert [m.value() for m in msgs] == [b'{"schema":{"type":"string","optional":false},"payload":"foo"}',
                                             b'{"schema":{"type":"string","optional":false},"payload":"bar"}']
        assert [m.key() for m in msgs] == [None, None]
        with open(tmp_path / "test.txt", "a") as f:
            f.write("Another line\n")
        wait_for(lambda: sink.read_text() == "foo\nbar\nAnother line\n", what="the appended line")
    finally:
        assert worker.stop() == 0
    assert "Kafka Connect stopped" in worker.log_text()

    # graceful shutdown committed the source offset in Kafka's file format: [connector, partition] -> offset
    raw = load_map(offsets.read_bytes())
    assert raw == {b'["local-file-source",{"filename":"test.txt"}]': b'{"position":21}'}

    # a restart resumes from the committed offsets: the source re-reads nothing, the sink re-writes nothing
    with open(tmp_path / "test.txt", "a") as f:
        f.write("after restart\n")
    worker = ConnectProcess(tmp_path, *args, script="bin/connect-standalone.sh").start()
    try:
        wait_for(lambda: sink.read_text().endswith("after restart\n"), what="the line written after the restart")
        assert sink.read_text() == "foo\nbar\nAnother line\nafter restart\n"
        assert len(consume_all(broker.bootstrap, "connect-test", 5, timeout=2)) == 4
    finally:
        assert worker.stop() == 0


def test_an_invalid_connector_file_stops_the_worker(broker, tmp_path):
    # plugin.path is tolerated (Brook finds plugins through entry points): the worker starts with it
    props = worker_props(tmp_path / "w.properties", broker.bootstrap, tmp_path / "connect.offsets",
                         **{"plugin.path": "/usr/local/share/java,/usr/share/java"})
    bad = tmp_path / "bad-sink.properties"
    bad.write_text("name=bad-sink\nconnector.class=FileStreamSink\ntasks.max=0\n")
    worker = ConnectProcess(tmp_path, str(props), str(bad)).start()
    assert worker.proc.wait(30) == 3  # ConnectStandalone's exit code after a connector error
    log = worker.log_text()
    assert "Stopping after connector error" in log
    assert "Invalid value 0 for configuration tasks.max: Value must be at least 1" in log
    assert "Must configure one of topics or topics.regex" in log
