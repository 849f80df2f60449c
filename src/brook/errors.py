"""Kafka error codes (kio's generated ErrorCode) and the exception that carries one inside Brook."""

from __future__ import annotations

from kio.schema.errors import ErrorCode

__all__ = ["ErrorCode", "KafkaError"]


class KafkaError(Exception):
    """Raised inside the broker; turned into an error code (and message) at the protocol edge."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or code.name)
        self.code = code
        self.message = message
