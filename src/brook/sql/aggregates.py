"""CREATE TABLE AS SELECT ... GROUP BY: aggregates kept per key in a RocksDB store (rocksdict) backed by a compacted
changelog topic named as ksqlDB names it, so that a restarted server restores the store and pull queries read it."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from brook.sql import formats
from brook.sql.expressions import Compiler, SqlError
from brook.sql.functions import AGGREGATES
from brook.sql.parser import Query
from brook.sql.queries import PSEUDO, PersistentQuery, Source, columns_schema

SUPPORTED = ("COUNT", "SUM", "AVG", "MIN", "MAX", "LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET", "COLLECT_LIST",
             "COLLECT_SET")
log = logging.getLogger("io.confluent.ksql.execution")


def _agg_type(name: str, arg: tuple | None) -> tuple:
    if name == "COUNT":
        return ("BIGINT",)
    if name == "AVG":
        return ("DOUBLE",)
    if name in ("COLLECT_LIST", "COLLECT_SET"):
        return ("ARRAY", arg or ("STRING",))
    return arg or ("STRING",)


def _update(name: str, state: Any, value: Any, star: bool) -> Any:
    if name == "COUNT":
        return state + (1 if star or value is not None else 0)
    if value is None:
        return state
    if name == "SUM":
        return state + value
    if name == "AVG":
        return [state[0] + value, state[1] + 1]
    if name == "MIN":
        return value if state is None or value < state else state
    if name == "MAX":
        return value if state is None or value > state else state
    if name == "LATEST_BY_OFFSET":
        return value
    if name == "EARLIEST_BY_OFFSET":
        return value if state is None else state
    if name == "COLLECT_LIST":
        return [*state, value]
    return state if value in state else [*state, value]  # COLLECT_SET


def _initial(name: str) -> Any:
    return {"COUNT": 0, "SUM": 0, "AVG": [0, 0], "COLLECT_LIST": [], "COLLECT_SET": []}.get(name)


def _result(name: str, state: Any) -> Any:
    if name == "AVG":
        return state[0] / state[1] if state[1] else None
    return state


class AggregatePlan:
    """GROUP BY keys, aggregate calls, and where each output column comes from."""

    def __init__(self, query: Query, source: Source) -> None:
        if query.having is not None:
            raise SqlError("HAVING is not yet supported by Brook's SQL engine.")
        scope = {**PSEUDO, **{n: t for n, t, _ in source.columns}}
        self.compiler = Compiler(scope, query.alias, source.name)
        self.where = self.compiler.compile(query.where) if query.where is not None else None
        groups = query.group_by or []
        self.group_fns = [self.compiler.compile(g) for g in groups]
        self.aggs: list[tuple[str, Any, bool]] = []  # (function, argument closure, COUNT(*))
        self.outputs: list[tuple[str, int]] = []  # ("key" | "agg", index)
        self.columns: list[tuple[str, tuple | None, bool]] = []  # (name, type or None for NULL, key)
        key_names = [g[2] if g[0] == "col" else f"KSQL_COL_{i}" for i, g in enumerate(groups)]
        for index, item in enumerate(query.items):
            if item[0] != "expr":
                raise SqlError("SELECT * is not supported with GROUP BY: name the key and the aggregates.")
            expr, alias = item[1], item[2]
            if expr in groups:
                i = groups.index(expr)
                self.outputs.append(("key", i))
                self.columns.append((alias or key_names[i], self.compiler.type_of(expr), True))
                continue
            if expr[0] != "call" or expr[1] not in AGGREGATES:
                raise SqlError(f"Non-aggregate SELECT expression(s) not part of GROUP BY: {_text(expr)}")
            name, args = expr[1], expr[2]
            if name not in SUPPORTED:
                raise SqlError(f"The aggregate function {name} is not yet supported by Brook's SQL engine.")
            star = bool(args) and args[0][0] == "star"
            if len(args) != 1:
                raise SqlError(f"Function '{name}' does not accept parameters of this number.")
            arg_type = None if star else self.compiler.type_of(args[0])
            self.aggs.append((name, None if star else self.compiler.compile(args[0]), star))
            self.outputs.append(("agg", len(self.aggs) - 1))
            self.columns.append((alias or f"KSQL_COL_{index}", _agg_type(name, arg_type), False))
        self.key_columns = [(key_names[i], self.compiler.type_of(g)) for i, g in enumerate(groups)]
        for n, t, k in self.columns:
            if k and (n, t) not in self.key_columns:
                self.key_columns[[x[0] for x in self.key_columns].index(n)] = (n, t)

    def schema(self) -> str:
        return columns_schema(self.columns)

    def initial(self) -> list:
        return [_initial(name) for name, _, _ in self.aggs]

    def update(self, state: list, row: dict) -> list:
        return [_update(name, s, None if star else fn(row), star)
                for (name, fn, star), s in zip(self.aggs, state, strict=True)]

    def output(self, keys: list, state: list) -> dict:
        out = {}
        for (name, _, _k), (where, i) in zip(self.columns, self.outputs, strict=True):
            out[name] = keys[i] if where == "key" else _result(self.aggs[i][0], state[i])
        for (name, _), value in zip(self.key_columns, keys, strict=True):
            out.setdefault(name, value)
        return out


def _text(e: tuple) -> str:
    return e[2] if e[0] == "col" else e[0]


class TableQuery(PersistentQuery):
    """The aggregate's loop: per batch, update the store, write changelog and sink records, flush, commit."""

    state_dir: str = ""
    ready: bool = False

    @property
    def changelog(self) -> str:
        return f"{self.group_id}-Aggregate-Aggregate-Materialize-changelog"

    def store_path(self) -> Path:
        return Path(self.state_dir) / self.group_id / "Aggregate-Aggregate-Materialize"

    def open_store(self) -> Any:
        from rocksdict import Rdict

        self.store = Rdict(str(self.store_path()))
        return self.store

    def rows(self) -> list[dict]:
        """Every current row of the table (pull queries); the store is read while the query writes it."""
        return [json.loads(v)["row"] for _, v in self.store.items()]

    def restore(self, consumer_conf: dict) -> None:
        """Rebuild the store from the changelog unless a clean shutdown left a checkpoint at its end."""
        from confluent_kafka import Consumer, TopicPartition

        path = self.store_path()
        checkpoint = path.parent / ".checkpoint"
        c = Consumer({**consumer_conf, "group.id": self.group_id + "-restore", "enable.auto.commit": False})
        try:
            md = c.list_topics(timeout=10).topics.get(self.changelog)
            parts = sorted(md.partitions) if md else []
            ends = {p: c.get_watermark_offsets(TopicPartition(self.changelog, p), timeout=10)[1] for p in parts}
            if checkpoint.exists() and json.loads(checkpoint.read_text()) == {str(p): e for p, e in ends.items()}:
                self.open_store()
                return
            shutil.rmtree(path, ignore_errors=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            store = self.open_store()
            for p, end in ends.items():
                if end <= 0:
                    continue
                tp = TopicPartition(self.changelog, p, 0)
                c.assign([tp])
                # the position, not the last record's offset: transaction markers take offsets too
                while c.position([tp])[0].offset < end and not self.stop_event.is_set():
                    for msg in c.consume(500, 0.5):
                        if msg.error():
                            continue
                        if msg.value() is None:
                            store.delete(msg.key())
                        else:
                            store[msg.key()] = msg.value()
            checkpoint.unlink(missing_ok=True)
        finally:
            c.close()

    def _checkpoint(self, consumer_conf: dict) -> None:
        from confluent_kafka import Consumer, TopicPartition

        c = Consumer({**consumer_conf, "group.id": self.group_id + "-restore"})
        try:
            md = c.list_topics(timeout=10).topics.get(self.changelog)
            ends = {str(p): c.get_watermark_offsets(TopicPartition(self.changelog, p), timeout=10)[1]
                    for p in (md.partitions if md else {})}
        finally:
            c.close()
        (self.store_path().parent / ".checkpoint").write_text(json.dumps(ends))

    def _run(self) -> None:
        from confluent_kafka import Producer

        from brook.cli.clients import producer_config

        plan: AggregatePlan = self.plan  # type: ignore[assignment]
        consumer = self.consumer()
        # exactly_once(_v2): store updates reach the changelog and the sink in the transaction that also commits
        # the input offsets, so a killed server restores its store from committed changelog records only
        eos = self.guarantee.startswith("exactly_once")
        producer = Producer(producer_config({**self.client_props, "client.id": self.group_id,
                                             # Kafka Streams' EOS default: a dead instance's transaction ends soon
                                             **({"transactional.id": self.group_id,
                                                 "transaction.timeout.ms": "10000"} if eos else {})}))
        sink_values = [(n, t) for n, t, k in plan.columns if not k]
        clean = False
        try:
            if eos:
                producer.init_transactions(30)
            self.restore(self.client_props)
            self.ready = True  # pull queries wait for the restored store
            consumer.subscribe([self.source.topic])
            while not self.stop_event.is_set():
                msgs = consumer.consume(500, 0.2)
                if not msgs:
                    continue
                if eos:
                    producer.begin_transaction()
                self._batch(plan, msgs, producer, sink_values)
                if eos:
                    producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                                         consumer.consumer_group_metadata(), 30)
                    producer.commit_transaction(30)
                elif producer.flush(30) == 0:
                    consumer.commit(asynchronous=False)
            clean = True
        except Exception as e:  # noqa: BLE001 - a failed query is reported by SHOW QUERIES, the server goes on
            log.error("Query %s failed: %s", self.query_id, e)
            self.state, self.error = "ERROR", str(e)
        finally:
            producer.flush(5)
            consumer.close()
            if getattr(self, "store", None) is not None:
                self.store.flush()
                if clean:
                    self._checkpoint(self.client_props)
                self.store.close()

    def _batch(self, plan: AggregatePlan, msgs: list, producer: Any, sink_values: list) -> None:
        for msg in msgs:
            if msg.error():
                continue
            try:
                row = self.source.decode(msg)
                if row is None or (plan.where is not None and plan.where(row) is not True):
                    continue
                keys = [f(row) for f in plan.group_fns]
            except (formats.SerdeError, TypeError, ValueError, ArithmeticError) as e:
                log.warning("Error processing record %s-%d@%d: %s", msg.topic(), msg.partition(), msg.offset(), e)
                continue
            if any(k is None for k in keys):
                continue  # ksqlDB drops records whose grouping key is NULL
            out_key_row = dict(zip([n for n, _ in plan.key_columns], keys, strict=True))
            key = self.sink.encode_key(out_key_row, plan.key_columns)
            assert key is not None  # GROUP BY gives at least one key column
            old = self.store.get(key)
            state = json.loads(old)["state"] if old is not None else plan.initial()
            state = plan.update(state, row)
            out = plan.output(keys, state)
            stored = json.dumps({"state": state, "row": out}, separators=(",", ":")).encode()
            self.store[key] = stored
            producer.produce(self.changelog, key=key, value=stored)
            producer.produce(self.sink.topic, key=key, value=self.sink.encode_value(out, sink_values),
                             timestamp=msg.timestamp()[1])
            producer.poll(0)
