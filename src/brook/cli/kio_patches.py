"""kio response classes read with one field's type relaxed, where kio 0.6.5 rejects values Kafka sends.

DescribeTransactions' TransactionStartTimeMs is -1 for an id with no transaction (Empty, or not found), but kio reads
`datetime_i64` fields as non-negative timestamps only ("Cannot parse negative timestamp"). These subclasses read it
as the plain int64 it is on the wire; kio still decodes every byte. (No `from __future__ import annotations` here:
kio's reader resolves the field types at run time.)
"""

from dataclasses import dataclass, field

from kio.schema.describe_transactions.v0 import response as describe_transactions_v0


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionState(describe_transactions_v0.TransactionState):
    # ms, -1 when no transaction is open; kio's field type (a timezone-aware datetime) cannot hold that value
    transaction_start_time: int = field(metadata={"kafka_type": "int64"})  # type: ignore[assignment]


@dataclass(frozen=True, slots=True, kw_only=True)
class DescribeTransactionsResponse(describe_transactions_v0.DescribeTransactionsResponse):
    transaction_states: tuple[TransactionState, ...]
