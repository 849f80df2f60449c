"""StandaloneHerder: connector configs, target states (STARTED, PAUSED, STOPPED) and statuses of one worker,
with the operations of the REST API and Kafka's errors (404 not found, 409 exists, 400 invalid config).

All operations hold one lock, as Kafka's StandaloneHerder methods are synchronized.
"""

from __future__ import annotations

import logging
import threading
import time

from brook.connect import config as defs
from brook.connect.configdef import config_infos
from brook.connect.data import ConnectError
from brook.connect.errors import java_trace

log = logging.getLogger("org.apache.kafka.connect.runtime.standalone.StandaloneHerder")


class RestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def not_found(message: str) -> RestError:
    return RestError(404, message)


def java_map(d: dict) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in d.items()) + "}"


class StandaloneHerder:
    def __init__(self, worker, worker_id: str) -> None:
        self.worker, self.plugins, self.worker_id = worker, worker.plugins, worker_id
        self.lock = threading.RLock()
        # task threads report status under their own lock: the herder's lock is held while it joins them
        self.status_lock = threading.Lock()
        self.configs: dict[str, dict[str, str]] = {}
        self.target: dict[str, str] = {}
        self.task_configs: dict[str, list[dict[str, str]]] = {}
        self.connectors: dict[str, object] = {}
        self.status: dict[str, dict] = {}
        self.task_status: dict[tuple[str, int], dict] = {}
        self.ready = False  # set once the command line's connectors exist (Herder.ready)
        # KIP-558: connector -> topic -> (task, discoverTimestamp), kept in memory as Kafka's standalone worker does
        self.topics: dict[str, dict[str, tuple[int, int]]] = {}
        worker.on_status = self.on_task_status
        worker.on_topic = self.record_topic

    # status
    def on_task_status(self, task_id: tuple[str, int], state: str, trace: str | None) -> None:
        with self.status_lock:
            name, index = task_id
            if name not in self.configs or index >= len(self.task_configs.get(name, [])):
                return  # a task of a deleted or reconfigured connector reporting its end
            self.task_status[task_id] = self._state(state, trace)

    def _state(self, state: str, trace: str | None = None) -> dict:
        out = {"state": state, "worker_id": self.worker_id}
        if trace:
            out["trace"] = trace
        return out

    # active topics (KIP-558)
    def record_topic(self, connector: str, index: int, topic: str) -> None:
        if topic in self.topics.get(connector, ()):  # the common case, without the lock
            return
        with self.status_lock:
            if connector in self.configs:
                self.topics.setdefault(connector, {})[topic] = (index, int(time.time() * 1000))

    def active_topics(self, name: str) -> dict:
        """GET /connectors/{name}/topics: {name: {"topics": [...]}} (an unknown connector has none, as in Kafka)."""
        with self.status_lock:
            return {name: {"topics": sorted(self.topics.get(name, {}))}}

    def reset_topics(self, name: str) -> None:
        with self.status_lock:
            self.topics.pop(name, None)

    # validation
    def validate(self, props: dict[str, str]) -> dict:
        cls = props.get("connector.class")
        if cls is None:
            raise RestError(400, f"Connector config {java_map(props)} contains no connector type")
        try:
            connector = self.plugins.new_connector(cls)
        except ConnectError as e:
            raise RestError(500, str(e)) from None
        base = defs.SOURCE if connector.kind == "source" else defs.SINK
        values = base.validate_all(props)
        if connector.kind == "sink":
            for v in values:
                err = defs.sink_errors(props).get(v.name)
                if err:
                    v.errors.append(err)
        values += self._transform_errors(props)
        own = connector.config()
        values += connector.validate(props)
        keys = {**base.keys, **own.keys}
        groups = base.groups() + [g for g in own.groups() if g not in base.groups()]
        return config_infos(cls, keys, values, groups)

    def _transform_errors(self, props: dict[str, str]) -> list:
        from brook.connect.chain import build_chain
        from brook.connect.configdef import ConfigValue

        try:
            build_chain(self.plugins, props)
        except ConnectError as e:
            return [ConfigValue("transforms", props.get("transforms"), [str(e)])]
        return []

    def _check(self, props: dict[str, str]) -> dict:
        infos = self.validate(props)
        if infos["error_count"]:
            errors = [e for c in infos["configs"] if c["value"] for e in c["value"]["errors"]]
            raise RestError(400, f"Connector configuration is invalid and contains the following "
                                 f"{infos['error_count']} error(s):\n" + "\n".join(errors)
                            + "\nYou can also find the above list of errors at the endpoint "
                              "`/connector-plugins/{connectorType}/config/validate`")
        return infos

    # connectors
    def put_connector_config(self, name: str, props: dict[str, str], allow_replace: bool,
                             initial_state: str | None = None) -> tuple[bool, dict]:
        self._check(props)
        with self.lock:
            created = name not in self.configs
            if not created:
                if not allow_replace:
                    raise RestError(409, f"Connector {name} already exists")
                self._stop_connector(name)
            self.configs[name] = dict(props)
            if created or initial_state:
                self.target[name] = initial_state or "STARTED"
            self._start_connector(name)
            return created, self.info(name)

    def _start_connector(self, name: str) -> None:
        props = self.configs[name]
        state = self.target[name]
        try:
            connector = self.plugins.new_connector(props["connector.class"])
            if state != "STOPPED":
                connector.start(props)
            self.connectors[name] = connector
            self.status[name] = self._state("RUNNING" if state == "STARTED" else state)
            log.info("Finished creating connector %s", name)
        except Exception as e:
            log.error("Failed to start connector %s", name, exc_info=e)
            self.status[name] = self._state("FAILED", java_trace(e))
            self.task_configs[name] = []
            return
        if state == "STOPPED":
            self.task_configs[name] = []
            return
        self._reconfigure_tasks(name)

    def _reconfigure_tasks(self, name: str) -> None:
        connector = self.connectors[name]
        props = self.configs[name]
        base = defs.SOURCE if connector.kind == "source" else defs.SINK  # type: ignore[attr-defined]
        cfg = base.parse(props)
        task_configs = connector.task_configs(cfg["tasks.max"])  # type: ignore[attr-defined]
        if len(task_configs) > cfg.get_int("tasks.max") and cfg.get_bool("tasks.max.enforce"):
            self.status[name] = self._state("FAILED", java_trace(ConnectError(
                f"The connector {name} has generated {len(task_configs)} tasks, which is greater than "
                f"{cfg['tasks.max']}, the maximum number of tasks it is configured to create. ")))
            task_configs = []
        task_class = connector.task_class()  # type: ignore[attr-defined]
        self.task_configs[name] = [{**t, "task.class": f"{task_class.__module__}.{task_class.__name__}"}
                                   for t in task_configs]
        for i, t in enumerate(task_configs):
            self.task_status[(name, i)] = self._state("UNASSIGNED")
            self.worker.start_task(name, i, props, cfg, t, connector.kind, task_class,  # type: ignore[attr-defined]
                                   self.target[name] == "PAUSED")

    def _stop_tasks(self, name: str) -> None:
        n = len(self.task_configs.get(name, []))
        self.worker.stop_tasks([(name, i) for i in range(n)])

    def _stop_connector(self, name: str) -> None:
        self._stop_tasks(name)
        connector = self.connectors.pop(name, None)
        if connector is not None:
            try:
                connector.stop()  # type: ignore[attr-defined]
            except Exception:
                log.exception("Error while stopping connector %s", name)
        for i in range(len(self.task_configs.get(name, []))):
            self.task_status.pop((name, i), None)
        self.task_configs[name] = []

    def delete(self, name: str) -> None:
        with self.lock:
            self._require(name)
            self._stop_connector(name)
            for d in (self.configs, self.target, self.task_configs, self.status):
                d.pop(name, None)
            self.reset_topics(name)  # a deleted connector's active topics go with it (AbstractHerder.onDeletion)

    def _require(self, name: str, text: str = "Connector {} not found") -> dict[str, str]:
        props = self.configs.get(name)
        if props is None:
            raise not_found(text.format(name))
        return props

    def info(self, name: str) -> dict:
        props = self._require(name)
        return {"name": name, "config": dict(props),
                "tasks": [{"connector": name, "task": i} for i in range(len(self.task_configs.get(name, [])))],
                "type": self.plugins.connector_type(props)}

    def connector_names(self) -> list[str]:
        with self.lock:
            return sorted(self.configs)

    def connector_status(self, name: str) -> dict:
        with self.status_lock:
            if name not in self.status:
                raise not_found(f"No status found for connector {name}")
            tasks = [{"id": i, **self.task_status[(name, i)]} for i in range(len(self.task_configs.get(name, [])))
                     if (name, i) in self.task_status]
            return {"name": name, "connector": dict(self.status[name]), "tasks": tasks,
                    "type": self.plugins.connector_type(self.configs.get(name))}

    def one_task_status(self, name: str, index: int) -> dict:
        with self.status_lock:
            st = self.task_status.get((name, index))
            if st is None:
                raise not_found(f"No status found for task {name}-{index}")
            return {"id": index, **st}

    def tasks(self, name: str) -> list[dict]:
        with self.lock:
            self._require(name)
            return [{"id": {"connector": name, "task": i}, "config": t}
                    for i, t in enumerate(self.task_configs.get(name, []))]

    def set_target(self, name: str, state: str) -> None:
        with self.lock:
            self._require(name, "Unknown connector {}" if state != "STOPPED" else "Connector {} not found")
            previous = self.target[name]
            self.target[name] = state
            if state == "STOPPED":
                self._stop_connector(name)
                self.status[name] = self._state("STOPPED")
                return
            if previous == "STOPPED":
                self._start_connector(name)
                return
            for i in range(len(self.task_configs.get(name, []))):
                t = self.worker.tasks.get((name, i))
                if t is not None:
                    t.pause() if state == "PAUSED" else t.resume()
            if self.status.get(name, {}).get("state") != "FAILED":
                self.status[name] = self._state("PAUSED" if state == "PAUSED" else "RUNNING")

    def restart(self, name: str, include_tasks: bool, only_failed: bool) -> dict | None:
        """POST /connectors/{name}/restart: None for the plain restart (204), else the status to report (202)."""
        with self.lock:
            if not include_tasks and not only_failed:
                self._require(name)
                self._restart_connector_only(name)
                return None
            self._require(name, "Unknown connector: {}")
            failed = self.status[name]["state"] == "FAILED"
            restart_conn = failed or not only_failed
            ids = [i for i in range(len(self.task_configs.get(name, [])))
                   if include_tasks and (not only_failed or self.task_status.get((name, i), {}).get("state")
                                         == "FAILED")]
            if restart_conn:
                self.status[name] = self._state("RESTARTING")
            for i in ids:
                self.task_status[(name, i)] = self._state("RESTARTING")
            report = self.connector_status(name)
            if restart_conn and not include_tasks:
                self._restart_connector_only(name)
            elif restart_conn or ids:
                self._stop_tasks(name) if restart_conn else self.worker.stop_tasks([(name, i) for i in ids])
                if restart_conn:
                    self._stop_connector(name)
                    self._start_connector(name)
                else:
                    self._restart_tasks(name, ids)
            return report

    def _restart_connector_only(self, name: str) -> None:
        """The connector restarts; its tasks keep running (Kafka restarts them only if their configs change)."""
        connector = self.connectors.get(name)
        if connector is None or self.status.get(name, {}).get("state") == "FAILED":
            self._stop_connector(name)
            self._start_connector(name)
            return
        try:
            connector.stop()  # type: ignore[attr-defined]
            if self.target[name] != "STOPPED":
                connector.start(self.configs[name])  # type: ignore[attr-defined]
            state = self.target[name]
            self.status[name] = self._state("RUNNING" if state == "STARTED" else state)
        except Exception as e:
            self.status[name] = self._state("FAILED", java_trace(e))

    def _restart_tasks(self, name: str, ids: list[int]) -> None:
        connector = self.connectors[name]
        props = self.configs[name]
        base = defs.SOURCE if connector.kind == "source" else defs.SINK  # type: ignore[attr-defined]
        task_class = connector.task_class()  # type: ignore[attr-defined]
        for i in ids:
            t = {k: v for k, v in self.task_configs[name][i].items() if k != "task.class"}
            self.worker.start_task(name, i, props, base.parse(props), t, connector.kind, task_class,  # type: ignore[attr-defined]
                                   self.target[name] == "PAUSED")

    def restart_task(self, name: str, index: int, authorization: str | None = None) -> None:
        with self.lock:
            self._require(name)
            if index >= len(self.task_configs.get(name, [])):
                raise not_found(f"Task {name}-{index} not found")
            self.worker.stop_tasks([(name, index)])
            self._restart_tasks(name, [index])

    # offsets (KIP-875)
    def get_offsets(self, name: str) -> dict:
        with self.lock:
            props = self._require(name)
        if self.plugins.connector_type(props) == "source":
            items = self.worker.offsets.partitions(name)
            return {"offsets": [{"partition": p, "offset": o} for p, o in items]}
        return {"offsets": [{"partition": {"kafka_topic": t, "kafka_partition": p}, "offset": {"kafka_offset": o}}
                            for t, p, o in self.worker.sink_offsets(name)]}

    def modify_offsets(self, name: str, offsets: list | None) -> dict:
        """PATCH (offsets given) or DELETE (None) /connectors/{name}/offsets; the connector must be STOPPED."""
        with self.lock:
            props = self._require(name)
            if self.target.get(name) != "STOPPED" or self.task_configs.get(name):
                raise RestError(400, "Connectors must be in the STOPPED state before their offsets can be modified. "
                                     "This can be done for the specified connector by issuing a 'PUT' request to "
                                     f"the '/connectors/{name}/stop' endpoint")
            source = self.plugins.connector_type(props) == "source"
            verb = "reset" if offsets is None else "altered"
            if source:
                store = self.worker.offsets
                if offsets is None:
                    store.remove(name, [store.key(name, p) for p, _ in store.partitions(name)])
                else:
                    store.put(name, {store.key(name, o["partition"]): o.get("offset") for o in offsets})
            elif offsets is None:
                self.worker.reset_sink_offsets(name)
            else:
                self.worker.alter_sink_offsets(name, [self._sink_offset(o) for o in offsets])
            return {"message": f"The offsets for this connector have been {verb} successfully"}

    @staticmethod
    def _sink_offset(entry: dict) -> tuple[str, int, int]:
        part, off = entry.get("partition") or {}, entry.get("offset")
        if not isinstance(part.get("kafka_topic"), str):
            raise RestError(400, "Kafka topic names must be valid strings and may not be null")
        if not isinstance(part.get("kafka_partition"), int):
            raise RestError(400, "Kafka partitions must be valid numbers and may not be null")
        if not isinstance(off, dict) or not isinstance(off.get("kafka_offset"), int) or off["kafka_offset"] < 0:
            raise RestError(400, "Kafka offsets must be valid non-negative numbers (Brook cannot reset a single "
                                 "sink partition with a null offset; DELETE resets them all)")
        return part["kafka_topic"], part["kafka_partition"], off["kafka_offset"]

    def stop(self) -> None:
        """Graceful shutdown: every task flushes and commits its offsets, then the connectors stop."""
        with self.lock:
            ids = [(n, i) for n in self.configs for i in range(len(self.task_configs.get(n, [])))]
            self.worker.stop_tasks(ids)
            for name, connector in list(self.connectors.items()):
                try:
                    connector.stop()  # type: ignore[attr-defined]
                except Exception:
                    log.exception("Error while stopping connector %s", name)
            self.connectors.clear()
