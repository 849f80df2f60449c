"""What a coordinator operation produces besides its answer: records to append (each list one batch, in order)
and the answers of earlier requests that waited, by the token their caller gave them.

A change that must not outlive a refused append (a full disk: Kafka's coordinators then keep only what their log
holds) travels with its records as `apply`, run once the log has them; `refused` gives the operation's answer
when the log refuses them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from brook.errors import ErrorCode

T = TypeVar("T")
Record = tuple[object, object | None]  # (key, value) of coordinator_records; value None: a tombstone


@dataclass(slots=True)
class Append:
    records: list[Record]
    producer_id: int = -1  # >= 0: a transactional batch of that producer (TxnOffsetCommit)
    producer_epoch: int = -1
    apply: Callable[[], None] | None = None
    refused: Callable[[ErrorCode], object] | None = None


@dataclass(slots=True)
class CoordinatorResult(Generic[T]):
    response: T
    appends: list[Append] = field(default_factory=list)
    completions: list[tuple[int, object]] = field(default_factory=list)


class Output:
    def __init__(self) -> None:
        self.appends: list[Append] = []
        self.completions: list[tuple[int, object]] = []

    def write(self, records: list[Record], producer_id: int = -1, producer_epoch: int = -1,
              apply: Callable[[], None] | None = None, refused: Callable[[ErrorCode], object] | None = None) -> None:
        if records:
            self.appends.append(Append(records, producer_id, producer_epoch, apply, refused))
        elif apply is not None:
            apply()

    def complete(self, token: int, response: object) -> None:
        self.completions.append((token, response))

    def result(self, response: T) -> CoordinatorResult[T]:
        """The operation's result, leaving the output empty for the next one."""
        result = CoordinatorResult(response, self.appends, self.completions)
        self.appends, self.completions = [], []
        return result
