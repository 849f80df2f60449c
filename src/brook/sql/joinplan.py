"""The plan of a join as ksqlDB builds it: `a JOIN b ON ... JOIN c ON ...` is a left-deep chain of two-sided join
steps, ((a JOIN b) JOIN c), each checked with ksqlDB's rules and messages, and its internal topics and stores named
as ksqlDB names them: the innermost step carries the context `L_` once per step above it (`L_Join-repartition`,
`KafkaTopic_L_Right-Reduce`), the stream-stream window stores are numbered as Kafka Streams numbers its nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brook.sql.expressions import Compiler, SqlError, column_refs, expr_text, rewrite
from brook.sql.formats import SR_FORMATS
from brook.sql.parser import Query, position, type_str
from brook.sql.queries import Source
from brook.sql.windows import DEFAULT_GRACE_MS

# a foreign-key step is always the first (ksqlDB refuses one later in the chain) and joins two tables, so Kafka
# Streams numbers its stores alike in every query: the left rows by foreign key, and (when another step follows)
# the step's joined rows, materialized for that step
FK_INDEX = "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-0000000016"
FK_OUTPUT = "KTABLE-FK-JOIN-OUTPUT-STATE-STORE-0000000025"


class JoinCompiler(Compiler):
    """Columns named `<alias>_<column>` inside the joined row; `alias.column` and unambiguous bare names resolve."""

    def __init__(self, columns: dict[str, tuple], sides: dict[str, list[str]]) -> None:
        super().__init__(columns)
        self.sides = sides
        self.qualifiers = set(sides)
        # the synthetic key's name: ROWKEY, or ROWKEY_<n> when a source has a column of that name (held as ROWKEY)
        taken = {n for names in sides.values() for n in names}
        self.synthetic = next(f"ROWKEY_{n}" if n else "ROWKEY" for n in range(len(taken) + 1)
                              if (f"ROWKEY_{n}" if n else "ROWKEY") not in taken)

    def owner(self, qualifier: str | None, name: str) -> str:
        """The alias of the source a column reference names."""
        if qualifier is not None:
            if qualifier not in self.sides:
                raise SqlError(f"'{qualifier}' is not a valid stream/table name or alias.")
            if name not in self.sides[qualifier]:
                raise SqlError(f"Column '{qualifier}.{name}' cannot be resolved.")
            return qualifier
        owners = [q for q, names in self.sides.items() if name in names]
        if not owners:
            raise SqlError(f"Column '{name}' cannot be resolved.")
        if len(owners) > 1:
            raise SqlError(f"Column '{name}' is ambiguous. Could be {' or '.join(f'{q}.{name}' for q in owners)}.")
        return owners[0]

    def column(self, qualifier: str | None, name: str) -> str:
        if qualifier is None and name == self.synthetic:
            return "ROWKEY"
        if qualifier is None and name in self.columns:
            return name
        return f"{self.owner(qualifier, name)}_{name}"

    def resolve(self, e: Any) -> Any:
        """`e` with every column reference as the joined row's flat name (comparable across spellings)."""
        def fix(x: Any) -> Any:
            if isinstance(x, tuple) and x[:1] == ("col",):
                return ("col", None, self.column(x[1], x[2]))
            return None
        return rewrite(e, fix)


@dataclass
class Leaf:
    """One source of the join, feeding one side of one step."""
    source: Source
    alias: str
    step: int
    side: int  # 0: the left input of its step, 1: the right
    key_fn: Any = None  # the join expression over this leaf's renamed row
    repartition: str | None = None  # the topic that re-keys it by the join expression
    store: str = ""  # a table's store

    def renamed(self, row: dict) -> dict:
        return {f"{self.alias}_{n}": v for n, v in row.items()}


@dataclass
class Step:
    index: int
    ctx: str  # "L_" once per step above this one
    kind: str  # SS, ST or TT: the left input's kind and the right source's
    join_type: str  # INNER, LEFT, RIGHT, FULL
    right: Leaf
    left_leaf: Leaf | None  # the first step's left source; later steps take the previous step's result
    left_expr: Any  # resolved join expressions
    right_expr: Any
    key_type: tuple
    key_equiv: list  # resolved expressions whose value is the result's key
    left_key_fn: Any = None  # the join expression over the left input's (joined) row
    left_repartition: str | None = None  # a later step re-keying the previous result
    within: tuple[int, int] | None = None
    grace: int = DEFAULT_GRACE_MS
    legacy: bool = True  # no GRACE PERIOD: an unmatched outer row is written at once
    foreign_key: bool = False
    stores: dict[str, str] = field(default_factory=dict)  # this, other, shared (stream-stream)
    after: tuple[int, int] = (0, 0)  # how far after a left / right record the other side may be

    @property
    def left_outer(self) -> bool:
        return self.join_type in ("LEFT", "FULL")

    @property
    def right_outer(self) -> bool:
        return self.join_type in ("RIGHT", "FULL")

    @property
    def result_kind(self) -> str:
        return "TABLE" if self.kind == "TT" else "STREAM"


def combine(join_type: str, left: dict | None, right: dict | None, key: Any) -> dict | None:
    """The joined row of a left and a right row (either may be missing), or None when the join gives none."""
    if left is None and right is None:
        return None
    if (left is None and join_type in ("INNER", "LEFT")) or (right is None and join_type in ("INNER", "RIGHT")):
        return None
    return {**(left or {}), **(right or {}), "ROWKEY": key}


def _has_map(t: tuple | None) -> bool:
    if not t:
        return False
    if t[0] == "MAP":
        return True
    if t[0] == "ARRAY":
        return _has_map(t[1])
    return t[0] == "STRUCT" and any(_has_map(ft) for _, ft in t[1])


def _key_message(sink: str, texts: list[str]) -> str:
    if len(texts) == 1:
        listed = f"expression {texts[0]}"
    else:
        listed = "expressions " + ", ".join(texts[:-1]) + " or " + texts[-1]
    return (f"Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to build "
            f"`{sink}` must include the join {listed} in its projection (eg, SELECT {texts[0]}...).")


class JoinPlan:
    """Validates the join chain and names its steps' topics and stores."""

    def __init__(self, query: Query, sources: list[Source], app_id: str, partitions: dict[str, int]) -> None:
        self.sources = sources
        self.aliases = [query.alias or sources[0].name] + [
            j.alias or s.name for j, s in zip(query.joins, sources[1:], strict=True)]
        names = [s.name for s in sources]
        if len(sources) == 2 and names[0] == names[1]:
            raise SqlError(f"Can not join '{names[0]}' to '{names[1]}': self joins are not yet supported.")
        for i, name in enumerate(names):
            if name in names[:i]:
                raise SqlError(f"N-way joins do not support multiple occurrences of the same source. Source: "
                               f"'{name}'")
        kafka = [s.name for s in sources if s.value_format == "KAFKA"]
        if kafka:
            raise SqlError(f"Source(s) {', '.join(kafka)} are using the 'KAFKA' value format. This format does not "
                           "yet support JOIN.")
        self.sides = {a: list(s.scope()) for a, s in zip(self.aliases, sources, strict=True)}
        self.scope = {f"{a}_{n}": t for a, s in zip(self.aliases, sources, strict=True) for n, t in s.scope().items()}
        self.window = sources[0].window  # windowed sources join on the key and the window; the result keeps it
        self.compiler = JoinCompiler(self.scope, self.sides)
        self.names = {f"{a}_{n}": f"{a}.{n}" for a, cols in self.sides.items() for n in cols}
        self.steps: list[Step] = []
        self.leaves = [Leaf(sources[0], self.aliases[0], 0, 0)]
        count = len(query.joins)
        left_kind = sources[0].kind
        # every join criteria is checked before the sources are (as ksqlDB analyzes the whole query first)
        conditions = [self._condition(j.on, self.aliases[i + 1], set(self.aliases[:i + 1]))
                      for i, j in enumerate(query.joins)]
        for i, join in enumerate(query.joins):
            right = Leaf(sources[i + 1], self.aliases[i + 1], i, 1)
            step = self._step(i, "L_" * (count - 1 - i), join, conditions[i], left_kind, right, app_id, partitions,
                              count)
            self.steps.append(step)
            self.leaves.append(right)
            left_kind = step.result_kind
        self._number_stores()
        last = self.steps[-1]
        self.scope["ROWKEY"] = last.key_type
        self.kind = last.kind
        self.result_kind = last.result_kind

    def key_texts(self) -> list[str]:
        return [self.names[e[2]] for e in self.steps[-1].key_equiv if e[0] == "col" and e[2] in self.names]

    def key_missing(self, sink: str) -> str:
        if self.steps[-1].key_equiv == [("col", None, "ROWKEY")]:
            name = self.compiler.synthetic
            return ("Key missing from projection (ie, SELECT). See https://cnfl.io/2LV7ouS.\nThe query used to "
                    f"build `{sink}` must include the join expression {name} in its projection (eg, SELECT "
                    f"{name}...).\n{name} was added as a synthetic key column because the join criteria did not "
                    "match any source column. This expression must be included in the projection and may be aliased.")
        return _key_message(sink, self.key_texts() or ["ROWKEY"])

    def _step(self, i: int, ctx: str, join: Any, condition: tuple[Any, Any], left_kind: str, right: Leaf,
              app_id: str, partitions: dict[str, int], count: int) -> Step:
        first, rs = self.sources[0], right.source
        kind, jt = f"{left_kind[0]}{rs.kind[0]}", join.kind
        joined = {"INNER": "[INNER] JOIN", "LEFT": "LEFT [OUTER] JOIN", "RIGHT": "RIGHT [OUTER] JOIN",
                  "FULL": "[FULL] OUTER JOIN"}[jt]  # as ksqlDB prints a join type
        if kind == "TS":
            raise SqlError(f"Invalid join order: table-stream joins are not supported; only stream-table joins. Got "
                           f"{first.name} {joined} {rs.name}.")
        if kind == "ST" and jt in ("RIGHT", "FULL"):
            name = "full-outer" if jt == "FULL" else "right"
            raise SqlError(f"Invalid join type: {name} join not supported for stream-table join. Got "
                           f"{first.name} {joined} {rs.name}.")
        if kind == "SS" and join.within is None:
            raise SqlError("Stream-Stream joins must have a WITHIN clause specified. None was provided. To learn "
                           "about how to specify a WITHIN clause with a stream-stream join, please visit: "
                           "https://docs.ksqldb.io/en/latest/developer-guide/joins/join-streams-and-tables/"
                           "#joins-and-windows")
        if kind != "SS" and join.within is not None:
            what = "Stream-Table" if kind == "ST" else "Table-Table"
            raise SqlError(f"A window definition was provided for a {what} join. These joins are not windowed. "
                           f"Please drop the window definition (ie. the WITHIN clause) and try to submit your "
                           f"{what} join again.")
        left_expr, right_expr = condition
        self._windows(i, right)
        c = self.compiler
        lt, rt = c.type_of(left_expr), c.type_of(right_expr)
        if lt != rt:
            raise SqlError(f"Invalid join condition: types don't match. Got {self._qualified(left_expr)}{{"
                           f"{type_str(lt) if lt else 'NULL'}}} = {self._qualified(right_expr)}{{"
                           f"{type_str(rt) if rt else 'NULL'}}}.")
        rl, rr = c.resolve(left_expr), c.resolve(right_expr)
        if lt is not None and _has_map(lt):
            name = rl[2] if rl[0] == "col" else "ROWKEY"
            raise SqlError("Map keys, including types that contain maps, are not supported as they may lead to "
                           f"unexpected behavior due to inconsistent serialization. Key column name: `{name}`. Column "
                           f"type: {type_str(lt)}. See https://github.com/confluentinc/ksql/issues/6621 for more.")

        def key_of(leaf: Leaf) -> list:
            return [("col", None, f"{leaf.alias}_{n}") for n, _ in leaf.source.key_columns]

        right_keyed = [rr] == key_of(right)
        prev_equiv = key_of(self.leaves[0]) if i == 0 else self.steps[-1].key_equiv
        # the left input is keyed by the expression when it is the whole key (one of a composite key is not)
        left_keyed = rl in prev_equiv if i > 0 else [rl] == prev_equiv
        foreign_key = kind == "TT" and not left_keyed
        if foreign_key and jt in ("RIGHT", "FULL"):
            raise SqlError(f"{jt} OUTER JOIN on a foreign key is not supported")
        written = f"{self._qualified(join.on[2])} = {self._qualified(join.on[3])}"  # the criteria as written
        if kind == "ST" and not right_keyed:
            raise SqlError("Invalid join condition: stream-table joins require to join on the table's primary key. "
                           f"Got {written}.")
        if kind == "TT" and not right_keyed:
            raise SqlError("Invalid join condition: table-table joins require to join on the primary key of the right "
                           f"input table. Got {written}.")
        for keyed, leaf, expr in ((right_keyed, right, right_expr), (left_keyed or foreign_key, self.leaves[0],
                                                                     left_expr)):
            table = leaf.source.kind == "TABLE" if leaf is right else left_kind == "TABLE"
            if not keyed and table:
                raise SqlError(f"Cannot repartition a TABLE source. If this is a join, make sure that the criteria "
                               f"uses the TABLE's key column {', '.join(n for n, _ in leaf.source.key_columns)} "
                               f"instead of [{expr_text(expr)}]")
        if foreign_key and i > 0:
            raise SqlError("Invalid join condition: foreign-key table-table joins are not supported as part of n-way "
                           f"joins. Got {self._qualified(join.on[2])} = {self._qualified(join.on[3])}.")
        step = Step(i, ctx, kind, jt, right, self.leaves[0] if i == 0 else None, rl, rr, lt or ("STRING",),
                    [], foreign_key=foreign_key)
        step.left_key_fn = self._windowed(c.compile(rl), self.aliases[0] if i == 0 else None)
        right.key_fn = self._windowed(c.compile(rr), right.alias)
        if not right_keyed:
            right.repartition = f"{app_id}-{ctx}Join-right-repartition"
        if not left_keyed and not foreign_key:
            topic = f"{app_id}-{ctx}Join-{'left-' if kind == 'SS' else ''}repartition"
            if i == 0:
                self.leaves[0].repartition = topic
            else:
                step.left_repartition = topic
        if i == 0:
            self.leaves[0].key_fn = step.left_key_fn
        windowed = [lf for lf, topic in ((self.leaves[0], self.leaves[0].repartition or step.left_repartition),
                                         (right, right.repartition)) if topic and lf.source.window is not None]
        if windowed or (self.window is not None and rs.window is not None and rs.key_format not in SR_FORMATS and (
                self.window != rs.window or first.key_format != rs.key_format)):
            raise SqlError("Implicit repartitioning of windowed sources is not supported. See "
                           "https://github.com/confluentinc/ksql/issues/4385.")
        repartitioned = bool(right.repartition or step.left_repartition or self.leaves[0].repartition and i == 0)
        have = [partitions.get(s.topic, 1) for s in (first, rs)]
        if not repartitioned and not foreign_key and have[0] != have[1]:
            raise SqlError(f"Can't join `{first.name}` with `{rs.name}` since the number of partitions don't "
                           f"match. `{first.name}` partitions = {have[0]}; `{rs.name}` partitions = {have[1]}. "
                           "Please repartition either one so that the number of partitions match.")
        # what the result's key equals: both join expressions, and what the left input's key equals when the left
        # expression is one of those (ksqlDB's JoinTree.joinEquivalenceSet)
        equiv = (prev_equiv if left_keyed else [rl]) + [rr]
        step.key_equiv = [e for n, e in enumerate(equiv) if e not in equiv[:n]]
        if jt == "FULL" or not any(e[0] == "col" and e[2] != "ROWKEY" for e in step.key_equiv):
            # no source column holds the key (JoinTree.viableKeyColumns): ksqlDB adds the synthetic key ROWKEY
            step.key_equiv = [("col", None, "ROWKEY")]
        if foreign_key:
            step.key_equiv = key_of(self.leaves[0])
        if kind == "SS":
            assert join.within is not None
            step.within, step.after = join.within, (join.within[1], join.within[0])
            step.legacy = join.grace is None
            step.grace = DEFAULT_GRACE_MS if join.grace is None else join.grace
        if rs.kind == "TABLE":
            right.store = f"KafkaTopic_{ctx}Right-Reduce"
        if i == 0 and kind == "TT":
            self.leaves[0].store = f"KafkaTopic_{ctx}Left-Reduce"
        return step

    def _qualified(self, e: Any) -> str:
        """An expression as ksqlDB prints a join criteria: every column with its source's alias."""
        return expr_text(rewrite(e, lambda x: ("col", self.compiler.owner(x[1], x[2]), x[2])
                                 if isinstance(x, tuple) and x[:1] == ("col",) else None))

    def _windowed(self, fn: Any, alias: str | None) -> Any:
        """Windowed sources join on the key and the window: the key's value, the window start (and a session's
        end), as their windowed keys' bytes compare."""
        if self.window is None or alias is None:
            return fn
        bounds = [f"{alias}_WINDOWSTART"] + ([f"{alias}_WINDOWEND"] if self.window.kind == "SESSION" else [])

        def key(row: dict) -> Any:
            value = fn(row)
            return None if value is None else [value, *(row[b] for b in bounds)]
        return key

    def _windows(self, i: int, right: Leaf) -> None:
        """ksqlDB's rules for windowed sources: both windowed or neither, session only with session."""
        left = self.leaves[0] if i == 0 else None
        lw = left.source.window if left is not None else None
        rw = right.source.window
        if left is None:
            if rw is not None:
                raise SqlError("Implicit repartitioning of windowed sources is not supported. See "
                               "https://github.com/confluentinc/ksql/issues/4385.")
            return
        if (lw is None) != (rw is None):
            def what(w: Any) -> str:
                return w.kind if w is not None else "not"
            raise SqlError(f"Can not join windowed source to non-windowed source.\n`{left.alias}` is {what(lw)} "
                           f"windowed\n`{right.alias}` is {what(rw)} windowed")
        if lw is not None and rw is not None and (lw.kind == "SESSION") != (rw.kind == "SESSION"):
            raise SqlError(f"Incompatible windowed sources.\nLeft source: {lw.kind}\nRight source: {rw.kind}\n"
                           "Session windowed sources can only be joined to other session windowed sources, and may "
                           "still not result in expected behaviour as session bounds must be an exact match for the "
                           "join to work\nHopping and tumbling windowed sources can only be joined to other hopping "
                           "and tumbling windowed sources")

    def _condition(self, on: Any, right: str, left: set[str]) -> tuple[Any, Any]:
        if on[0] == "and":
            raise SqlError(f"Invalid join condition: joins on multiple conditions are not yet supported. Got "
                           f"{expr_text(on)}.")
        if on[0] != "cmp" or on[1] != "=":
            raise SqlError(f"Unsupported join expression: {expr_text(on)}")
        owners = []
        for c in column_refs(on):  # qualifiers first, as ksqlDB resolves them before the columns
            if c[1] is not None and c[1] not in self.sides:
                raise SqlError(f"Failed to prepare statement: '{c[1]}' is not a valid stream/table name or alias.")
        for e in (on[2], on[3]):
            found = set()
            for c in column_refs(e):
                if c[1] in self.sides and c[2] not in self.sides[c[1]]:
                    raise SqlError(f"{position(c)}JOIN ON column '{expr_text(c)}' cannot be resolved.")
                try:
                    found.add(self.compiler.owner(c[1], c[2]))
                except SqlError as err:
                    if "is ambiguous" not in str(err):
                        raise
                    raise SqlError(f"Exception while preparing statement: {position(c)}{err}") from None
            if len(found) != 1:
                raise SqlError(f"Invalid comparison expression '{expr_text(e)}' in join '{expr_text(on)}'. Each side "
                               "of the join comparision must contain references from exactly one source.")
            owners.append(found.pop())
        lo, ro = owners
        if lo == ro:
            raise SqlError(f"Each side of the join must reference exactly one source and not the same source. Left "
                           f"side references `{lo}` and right references `{ro}`")
        if right not in owners or (lo if ro == right else ro) not in left:
            raise SqlError(f"A join criteria is expected to reference the source (`{right}`) in the FROM clause, "
                           f"instead the right source references `{ro}` and the left source references `{lo}`")
        return (on[3], on[2]) if lo == right else (on[2], on[3])

    def _number_stores(self) -> None:
        """Kafka Streams numbers its processors in the order ksqlDB builds them: a stream-table step builds its
        table first, a stream-stream step its left input first; a stream source takes 3 numbers, a table 6, a
        repartition 4, a stream-stream join 5 (its window stores are the 3rd and 4th)."""
        counter = 0

        def leaf(lf: Leaf) -> None:
            nonlocal counter
            counter += 3 if lf.source.kind == "STREAM" else 6

        def build(i: int) -> None:
            nonlocal counter
            step = self.steps[i]

            def left() -> None:
                if i == 0:
                    leaf(self.leaves[0])
                else:
                    build(i - 1)
            if step.kind == "SS":
                left()
                leaf(step.right)
            else:
                leaf(step.right)
                left()
            left_topic = self.leaves[0].repartition if i == 0 else step.left_repartition
            counter += 4 * sum(1 for t in (left_topic, step.right.repartition) if t)
            if step.kind == "SS":
                n = counter + 2
                step.stores = {
                    "this": f"KSTREAM-{'OUTERTHIS' if step.join_type == 'FULL' else 'JOINTHIS'}-{n:010d}-store",
                    "other": f"KSTREAM-{'OUTEROTHER' if step.join_type != 'INNER' else 'JOINOTHER'}-{n + 1:010d}"
                             "-store"}
                if step.join_type != "INNER":
                    step.stores["shared"] = f"KSTREAM-OUTERSHARED-{n:010d}-store"
                counter += 5
            else:
                counter += 1

        build(len(self.steps) - 1)

    def store_names(self) -> list[str]:
        names = [lf.store for lf in self.leaves if lf.store]
        for step in self.steps:
            names += list(step.stores.values())
            if step.foreign_key:
                names.append(FK_INDEX)
                if len(self.steps) > 1:
                    names.append(FK_OUTPUT)
        return names

    def topics(self) -> list[str]:
        out = []
        for lf in self.leaves:
            out.append(lf.source.topic)
            if lf.repartition:
                out.append(lf.repartition)
        return out + [s.left_repartition for s in self.steps if s.left_repartition]

    def repartitions(self) -> list[str]:
        return [t for t in [lf.repartition for lf in self.leaves] + [s.left_repartition for s in self.steps] if t]
