"""Stream-stream join window stores expire as Kafka Streams' window stores do (retention = the window's size and
grace, counted from the store's own newest row): the rows no later record can join leave the store, by the lowest
of the store's partitions' times, and a restored store's rows are scheduled again. The JoinTopology's expiry on its
own, over a real RocksDB store (the joins' results are covered end to end in test_sql_engine.py and
test_sql_multijoin.py)."""

from __future__ import annotations

from pathlib import Path

from brook.sql.joinplan import Step
from brook.sql.joins import JoinTopology
from brook.sql.joinsteps import _TS, canonical
from brook.sql.stores import Store


def _topology(store: Store, step: Step) -> JoinTopology:
    t = JoinTopology.__new__(JoinTopology)  # only the parts expiry reads: no query, sources or server
    t.steps, t.stores, t.stream_time, t.expiry, t.pending, t.aggregate = [step], {store.name: store}, {}, {}, {}, None
    t.observed = {}
    return t


def test_rows_older_than_the_window_and_grace_leave_the_store(tmp_path: Path) -> None:
    store = Store("KSTREAM-JOINTHIS-0000000008-store", "app", tmp_path)
    store.open()
    step = Step(index=0, ctx="", kind="SS", join_type="INNER", right=None, left_leaf=None,  # type: ignore[arg-type]
                left_expr=None, right_expr=None, key_type=("BIGINT",), key_equiv=[], grace=1000, legacy=False,
                stores={"this": store.name, "other": store.name}, after=(2000, 2000))
    for ts in (1000, 2500, 5000, 9000):
        store.put(canonical(1) + _TS.pack(ts, 0, ts), {"at": ts}, 0)
    t = _topology(store, step)
    t.restored()  # the rows found in the store are scheduled for expiry
    t.observed[(store.name, 0)], t.observed[(store.name, 1)] = 9000, 7000
    t._expire_rows(store.name, 5000)  # lowest store time 7000, window 4000 and grace 1000: rows up to 2000 go
    assert [v["at"] for _, v in store.items()] == [2500, 5000, 9000]
    t.observed[(store.name, 1)] = 12000
    t._expire_rows(store.name, 5000)  # now 9000 is the lowest: up to 4000
    assert [v["at"] for _, v in store.items()] == [5000, 9000]
