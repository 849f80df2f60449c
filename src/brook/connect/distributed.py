"""DistributedHerder: workers sharing connectors and tasks through Kafka (Kafka's DistributedHerder, with the
config, offset and status topics in Kafka's key formats).

Placement. librdkafka has no custom group protocol, so the workers do not negotiate an assignment as Kafka's do.
Each worker joins the consumer group `group.id` (client.id = its worker id) subscribed to the config topic; every
join or departure (a dead worker's session expiring) rebalances the group, and each worker then lists the
group's members (DescribeGroups) and computes the same round-robin placement from the same sorted member list
and the same config topic: connectors in name order, then all tasks in (connector, task) order. Each worker runs
what falls to it and stops the rest. Between two views of the membership a task may briefly run on two workers
(at-least-once, as Kafka promises for sources outside exactly-once mode).

Writes (create, update, delete, pause, resume, stop, restart) go to the config topic from any worker and are
applied by every worker when read back; the worker that runs a connector writes its task configs
(`task-<c>-<n>` then `commit-<c>`) and statuses go to the status topic from the worker that runs the unit.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.request

from brook.connect import config as defs
from brook.connect.errors import java_trace
from brook.connect.herder import RestError, StandaloneHerder
from brook.connect.kafkalog import KafkaBasedLog

log = logging.getLogger("org.apache.kafka.connect.runtime.distributed.DistributedHerder")


TOPIC_PREFIX, TOPIC_SEPARATOR = "status-topic-", ":connector-"  # KafkaStatusBackingStore's topic status keys


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class DistributedHerder(StandaloneHerder):
    def __init__(self, worker, worker_id: str, config: dict, client_id: str) -> None:
        super().__init__(worker, worker_id)
        self.cfg = config
        bootstrap = worker.bootstrap()
        self.config_log = KafkaBasedLog(bootstrap, config["config.storage.topic"], self._apply_config, client_id)
        self.status_log = KafkaBasedLog(bootstrap, config["status.storage.topic"], self._apply_status, client_id)
        self.members: list[str] = []
        self.generation = 0
        self.running_config: dict[str, tuple] = {}
        self.running_tasks: dict[tuple[str, int], dict] = {}
        self.pending_tasks: dict[str, dict[int, dict]] = {}
        self.restarts: list[tuple[str, bool, bool]] = []
        self.written_state: dict[str, tuple[str, int]] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._refresh = threading.Event()
        self._threads: list[threading.Thread] = []
        self.rest_scheme = "http"  # the advertised listener's: the other workers are reached the same way
        self.rest_tls: ssl.SSLContext | None = None

    # the config topic: connector-<c>, task-<c>-<n>, commit-<c>, target-state-<c>, restart-connector-<c>
    def _apply_config(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        k = key.decode()
        data = json.loads(value) if value is not None else None
        with self.status_lock:
            if k.startswith("connector-"):
                name = k[len("connector-"):]
                if data is None:
                    for d in (self.configs, self.target, self.task_configs, self.pending_tasks):
                        d.pop(name, None)
                else:
                    self.configs[name] = data["properties"]
                    self.target.setdefault(name, "STARTED")
            elif k.startswith("target-state-"):
                name = k[len("target-state-"):]
                if data is not None:
                    self.target[name] = data.get("state.v2") or data["state"]
            elif k.startswith("task-"):
                name, index = k[len("task-"):].rsplit("-", 1)
                if data is not None:
                    self.pending_tasks.setdefault(name, {})[int(index)] = data["properties"]
            elif k.startswith("commit-"):
                name = k[len("commit-"):]
                pending = self.pending_tasks.pop(name, {})
                count = data["tasks"] if data is not None else 0
                if all(i in pending for i in range(count)):
                    self.task_configs[name] = [pending[i] for i in range(count)]
            elif k.startswith("restart-connector-") and data is not None:
                self.restarts.append((k[len("restart-connector-"):], data["include-tasks"], data["only-failed"]))
        self._wake.set()

    # the status topic: status-connector-<c>, status-task-<c>-<n>, status-topic-<topic>:connector-<c>
    def _apply_status(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        k = key.decode()
        data = json.loads(value) if value is not None else None
        if k.startswith(TOPIC_PREFIX):
            topic, _, name = k[len(TOPIC_PREFIX):].partition(TOPIC_SEPARATOR)  # a topic name has no ':'
            with self.status_lock:
                if data is None:
                    self.topics.get(name, {}).pop(topic, None)
                else:
                    entry = data["topic"]
                    self.topics.setdefault(name, {})[topic] = (entry["task"], entry["discoverTimestamp"])
            return
        state = None if data is None else {"state": data["state"], "worker_id": data["worker_id"],
                                           **({"trace": data["trace"]} if data.get("trace") else {})}
        with self.status_lock:
            if k.startswith("status-connector-"):
                name = k[len("status-connector-"):]
                self.status.pop(name, None) if state is None else self.status.__setitem__(name, state)
            elif k.startswith("status-task-"):
                name, index = k[len("status-task-"):].rsplit("-", 1)
                tid = (name, int(index))
                self.task_status.pop(tid, None) if state is None else self.task_status.__setitem__(tid, state)

    def record_topic(self, connector: str, index: int, topic: str) -> None:
        if topic in self.topics.get(connector, ()):
            return
        now = int(time.time() * 1000)
        with self.status_lock:
            if connector not in self.configs or topic in self.topics.get(connector, ()):
                return
            self.topics.setdefault(connector, {})[topic] = (index, now)  # until read back from the topic
        value = {"topic": {"name": topic, "connector": connector, "task": index, "discoverTimestamp": now}}
        self.status_log.send(f"{TOPIC_PREFIX}{topic}{TOPIC_SEPARATOR}{connector}".encode(), dumps(value),
                             wait=False)

    def reset_topics(self, name: str) -> None:
        with self.status_lock:
            topics = list(self.topics.pop(name, {}))
        for topic in topics:
            self.status_log.send(f"{TOPIC_PREFIX}{topic}{TOPIC_SEPARATOR}{name}".encode(), None, wait=False)
        self.status_log.producer.flush(10)

    def _put_status(self, key: str, state: str | None, trace: str | None = None) -> None:
        value = None if state is None else dumps({"state": state, "trace": trace, "worker_id": self.worker_id,
                                                  "generation": self.generation})
        self.status_log.send(key.encode(), value, wait=False)

    def on_task_status(self, task_id: tuple[str, int], state: str, trace: str | None) -> None:
        name, index = task_id
        if name in self.configs and index < len(self.task_configs.get(name, [])):
            self._put_status(f"status-task-{name}-{index}", state, trace)

    # lifecycle
    def start(self) -> None:
        self.config_log.start()
        self.status_log.start()
        for target in (self._membership, self._reconcile_loop):
            t = threading.Thread(target=target, name=f"DistributedHerder-{target.__name__}", daemon=True)
            t.start()
            self._threads.append(t)

    def _membership(self) -> None:
        """Join group.id and, after each rebalance, read its member list (the placement's input)."""
        from confluent_kafka import Consumer

        group = self.cfg["group.id"]
        consumer = Consumer({"bootstrap.servers": self.worker.bootstrap(), "group.id": group,
                             "client.id": self.worker_id, "enable.auto.commit": False,
                             "session.timeout.ms": self.cfg["session.timeout.ms"],
                             "heartbeat.interval.ms": self.cfg["heartbeat.interval.ms"],
                             "auto.offset.reset": "latest"})
        consumer.subscribe([self.cfg["config.storage.topic"]], on_assign=lambda *_: self._refresh.set(),
                           on_revoke=lambda *_: self._refresh.set())
        admin = self.worker._admin()
        try:
            while not self._stopping.is_set():
                consumer.consume(100, 0.1)
                if not self._refresh.is_set():
                    continue
                try:
                    desc = admin.describe_consumer_groups([group], request_timeout=10)[group].result(10)
                except Exception as e:
                    log.warning("Could not describe group %s: %s", group, e)
                    continue
                if str(desc.state).upper().endswith("STABLE"):
                    self._refresh.clear()
                    members = sorted(m.client_id for m in desc.members)
                    if members != self.members:
                        self.generation += 1
                        log.info("Group %s generation %d members %s", group, self.generation, members)
                        self.members = members
                        self._wake.set()
        finally:
            consumer.close()

    def _reconcile_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            if self._stopping.is_set() or self.worker_id not in self.members:
                continue
            try:
                self._reconcile()
            except Exception:
                log.exception("Failed to apply the cluster's state")

    def _placement(self) -> tuple[set[str], set[tuple[str, int]]]:
        members = self.members
        names = sorted(self.configs)
        connectors = {n for i, n in enumerate(names) if members[i % len(members)] == self.worker_id}
        tasks = [(n, i) for n in names for i in range(len(self.task_configs.get(n, [])))]
        return connectors, {t for j, t in enumerate(tasks) if members[j % len(members)] == self.worker_id}

    def _reconcile(self) -> None:
        with self.lock:
            restarts, self.restarts = self.restarts, []
            my_connectors, my_tasks = self._placement()
            for name, include_tasks, only_failed in restarts:
                if name in self.running_config and (not only_failed or self.status.get(name, {}).get("state") ==
                                                "FAILED"):
                    self._stop_local_connector(name)
                if include_tasks:
                    ids = [t for t in self.worker.tasks if t[0] == name and
                           (not only_failed or self.task_status.get(t, {}).get("state") == "FAILED")]
                    self.worker.stop_tasks(ids)
                    for t in ids:
                        self.running_tasks.pop(t, None)
            # tasks that moved away, changed, or whose connector stopped
            stale = [t for t in list(self.worker.tasks) if t not in my_tasks or
                     self.running_tasks.get(t) != self._task_config(*t)]
            self.worker.stop_tasks(stale)
            for t in stale:
                self.running_tasks.pop(t, None)
            for name in list(self.connectors):
                if name not in my_connectors or self.running_config.get(name) != self._conn_key(name):
                    self._stop_local_connector(name)
            for name in sorted(my_connectors):
                if name not in self.connectors and name not in self.running_config:
                    self._start_local_connector(name)
                elif name in self.connectors:
                    target = self.target.get(name, "STARTED")
                    self._connector_state(name, "RUNNING" if target == "STARTED" else target)
            for t in sorted(my_tasks):
                name, index = t
                paused = self.target.get(name) == "PAUSED"
                running = self.worker.tasks.get(t)
                if running is None:
                    task_config = self._task_config(name, index)
                    if task_config is None:
                        continue
                    self._start_local_task(name, index, task_config, paused)
                elif paused != (not running._resumed.is_set()):
                    running.pause() if paused else running.resume()

    def _conn_key(self, name: str) -> tuple:
        return (json.dumps(self.configs.get(name), sort_keys=True), self.target.get(name) == "STOPPED")

    def _task_config(self, name: str, index: int) -> dict | None:
        tasks = self.task_configs.get(name, [])
        return tasks[index] if index < len(tasks) else None

    def _stop_local_connector(self, name: str) -> None:
        connector = self.connectors.pop(name, None)
        self.running_config.pop(name, None)
        self.written_state.pop(name, None)
        if connector is not None:
            try:
                connector.stop()  # type: ignore[attr-defined]
            except Exception:
                log.exception("Error while stopping connector %s", name)

    def _connector_state(self, name: str, state: str, trace: str | None = None) -> None:
        """Write the connector's status when it changes (the owner is the only writer)."""
        if self.written_state.get(name) != (state, self.generation):
            self.written_state[name] = (state, self.generation)
            self._put_status(f"status-connector-{name}", state, trace)

    def _start_local_connector(self, name: str) -> None:
        props, state = self.configs[name], self.target.get(name, "STARTED")
        self.running_config[name] = self._conn_key(name)
        try:
            connector = self.plugins.new_connector(props["connector.class"])
            if state != "STOPPED":
                connector.start(props)
            self.connectors[name] = connector
        except Exception as e:
            log.error("Failed to start connector %s", name, exc_info=e)
            self._connector_state(name, "FAILED", java_trace(e))
            return
        self._connector_state(name, "RUNNING" if state == "STARTED" else state)
        configs: list[dict] = []
        if state != "STOPPED":
            base = defs.SOURCE if connector.kind == "source" else defs.SINK
            task_class = connector.task_class()
            cls = f"{task_class.__module__}.{task_class.__name__}"
            configs = [{**t, "task.class": cls} for t in connector.task_configs(base.parse(props)["tasks.max"])]
        if configs != self.task_configs.get(name, []):
            for i, t in enumerate(configs):
                self.config_log.send(f"task-{name}-{i}".encode(), dumps({"properties": t}), wait=False)
            self.config_log.send(f"commit-{name}".encode(), dumps({"tasks": len(configs)}))

    def _start_local_task(self, name: str, index: int, task_config: dict, paused: bool) -> None:
        props = self.configs[name]
        connector = self.plugins.new_connector(props["connector.class"])
        base = defs.SOURCE if connector.kind == "source" else defs.SINK
        own = {k: v for k, v in task_config.items() if k != "task.class"}
        self.running_tasks[(name, index)] = task_config
        self.worker.start_task(name, index, props, base.parse(props), own, connector.kind, connector.task_class(),
                               paused)

    # REST operations: written to the config topic, applied when read back
    def put_connector_config(self, name, props, allow_replace, initial_state=None):
        self._check(props)
        with self.lock:
            self.config_log.read_to_end()
            created = name not in self.configs
            if not created and not allow_replace:
                raise RestError(409, f"Connector {name} already exists")
            if initial_state:
                self._write_target(name, initial_state, wait=False)
            self.config_log.send(f"connector-{name}".encode(), dumps({"properties": props}))
            self.config_log.read_to_end()
            return created, self.info(name)

    def _write_target(self, name: str, state: str, wait: bool = True) -> None:
        value = {"state": "PAUSED" if state == "STOPPED" else state, "state.v2": state}
        self.config_log.send(f"target-state-{name}".encode(), dumps(value), wait=wait)

    def delete(self, name):
        with self.lock:
            self.config_log.read_to_end()
            self._require(name)
            tasks = len(self.task_configs.get(name, []))
            self.config_log.send(f"connector-{name}".encode(), None, wait=False)
            self.config_log.send(f"target-state-{name}".encode(), None)
            self.config_log.read_to_end()
            for i in range(tasks):
                self._put_status(f"status-task-{name}-{i}", None)
            self._put_status(f"status-connector-{name}", None)
            self.reset_topics(name)
            self.status_log.read_to_end()

    def set_target(self, name, state):
        with self.lock:
            self.config_log.read_to_end()
            self._require(name, "Unknown connector {}" if state != "STOPPED" else "Connector {} not found")
            self._write_target(name, state)
            self.config_log.read_to_end()

    def restart(self, name, include_tasks, only_failed):
        with self.lock:
            self.config_log.read_to_end()
            self._require(name, "Connector {} not found" if not (include_tasks or only_failed)
                          else "Unknown connector: {}")
            report = None
            if include_tasks or only_failed:
                report = self.connector_status(name)
                if not only_failed or report["connector"]["state"] == "FAILED":
                    report["connector"]["state"] = "RESTARTING"
                for t in report["tasks"]:
                    if include_tasks and (not only_failed or t["state"] == "FAILED"):
                        t["state"] = "RESTARTING"
            self.config_log.send(f"restart-connector-{name}".encode(),
                                 dumps({"include-tasks": include_tasks, "only-failed": only_failed}))
            self.config_log.read_to_end()
            return report

    def restart_task(self, name, index, authorization=None):
        """Restarted by the worker that runs it; another worker forwards the request there, as Kafka does (with the
        caller's Authorization header, which the other worker's Basic auth checks again)."""
        with self.lock:
            self._require(name)
            if index >= len(self.task_configs.get(name, [])):
                raise RestError(404, f"Task {name}-{index} not found")
            if (name, index) in self.worker.tasks or (name, index) in self._placement()[1]:
                self.worker.stop_tasks([(name, index)])
                self.running_tasks.pop((name, index), None)
                self._wake.set()
                return
            owner = self.task_status.get((name, index), {}).get("worker_id")
        if not owner:
            raise RestError(409, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
        req = urllib.request.Request(f"{self.rest_scheme}://{owner}/connectors/{name}/tasks/{index}/restart",
                                     method="POST", headers={"Authorization": authorization} if authorization else {})
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.rest_tls):
                pass
        except urllib.error.HTTPError as e:  # the owner's answer is the answer
            raise RestError(e.code, e.read().decode(errors="replace")) from None

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for t in self._threads:
            t.join(15)
        super().stop()
        self.status_log.stop()
        self.config_log.stop()

