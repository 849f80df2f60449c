"""The BROKER_LOGGER config resource: the broker's loggers and their levels, read and changed at run time, as
Kafka's Log4jController and RuntimeLoggerManager do with log4j (Brook's loggers carry Kafka's names)."""

from __future__ import annotations

import logging

from brook.errors import ErrorCode, KafkaError

ROOT_LOGGER = "root"
TRACE = 5  # log4j's TRACE, below Python's DEBUG
LOG4J_TO_PYTHON = {"TRACE": TRACE, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
                   "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}
VALID_LOG_LEVELS = ", ".join(sorted(LOG4J_TO_PYTHON))
OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT = 0, 1, 2, 3
_OP_NAMES = {OP_APPEND: "APPEND", OP_SUBTRACT: "SUBTRACT"}
# The loggers Kafka's config/log4j.properties declares, so that they exist here too and can be set by name
KAFKA_LOGGERS = ("kafka", "org.apache.kafka", "kafka.request.logger", "kafka.network.RequestChannel$",
                 "kafka.controller", "kafka.log.LogCleaner", "state.change.logger", "kafka.authorizer.logger")

log = logging.getLogger("kafka.server.logger.RuntimeLoggerManager")


def log4j_level(level: int) -> str:
    """The log4j name of a Python level (levels between two names take the lower one)."""
    for name, value in sorted(LOG4J_TO_PYTHON.items(), key=lambda kv: -kv[1]):
        if level >= value:
            return name
    return "ALL" if level > 0 else "TRACE"


class RuntimeLoggerManager:
    """Kafka's broker-logger resource over a `logging.Manager` (the process's by default)."""

    def __init__(self, node_id: int, root: logging.Logger | None = None) -> None:
        self.node_id = node_id
        self.root = root or logging.getLogger()
        for name in KAFKA_LOGGERS:
            self.root.manager.getLogger(name)

    def _existing(self, name: str) -> logging.Logger | None:
        if name == ROOT_LOGGER:
            return self.root
        found = self.root.manager.loggerDict.get(name)
        return found if isinstance(found, logging.Logger) else None  # a PlaceHolder is not a logger yet

    def loggers(self) -> dict[str, str]:
        """Log4jController.loggers: every existing logger with the level it resolves to, the root first."""
        out = {ROOT_LOGGER: log4j_level(self.root.level)}
        for name, logger in sorted(self.root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                out[name] = log4j_level(logger.getEffectiveLevel())
        return out

    def check_resource_name(self, name: str, for_describe: bool) -> None:
        if for_describe:  # ConfigHelper.describeConfigs
            if not name:
                raise KafkaError(ErrorCode.invalid_request, "Broker id must not be empty")
            if not name.lstrip("-").isdigit() or int(name) != self.node_id:
                raise KafkaError(ErrorCode.invalid_request,
                                 f"Unexpected broker id, expected {self.node_id} but received {name}")
            return
        try:  # RuntimeLoggerManager.validateResourceNameIsNodeId (its message repeats the node id, as Kafka's)
            requested = int(name)
        except ValueError:
            raise KafkaError(ErrorCode.invalid_request, f"Node id must be an integer, but it is: {name}") from None
        if requested != self.node_id:
            raise KafkaError(ErrorCode.invalid_request,
                             f"Unexpected node id. Expected {self.node_id}, but received {self.node_id}")

    def validate(self, ops: list[tuple[str, int, str | None]]) -> None:
        """RuntimeLoggerManager.validateLogLevelConfigs over (logger, operation, level)."""
        for name, op, level in ops:
            if op in (OP_SET, OP_DELETE) and self._existing(name) is None:
                raise KafkaError(ErrorCode.invalid_config, f"Logger {name} does not exist!")
            if op == OP_SET and level not in LOG4J_TO_PYTHON:
                raise KafkaError(ErrorCode.invalid_config, f"Cannot set the log level of {name} to {level} as it is "
                                 f"not a supported log level. Valid log levels are {VALID_LOG_LEVELS}")
            if op == OP_DELETE and name == ROOT_LOGGER:
                raise KafkaError(ErrorCode.invalid_request,
                                 f"Removing the log level of the {ROOT_LOGGER} logger is not allowed")
            if op in _OP_NAMES:
                raise KafkaError(ErrorCode.invalid_request,
                                 f"{_OP_NAMES[op]} operation is not allowed for the BROKER_LOGGER resource")
            if op not in (OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT):
                raise KafkaError(ErrorCode.invalid_request,
                                 f"Unknown operation type {op} is not allowed for the BROKER_LOGGER resource")

    def apply(self, ops: list[tuple[str, int, str | None]]) -> None:
        """Validated changes: SET gives the logger its own level, DELETE makes it inherit again."""
        for name, op, level in ops:
            logger = self._existing(name)
            assert logger is not None
            if op == OP_SET:
                assert level is not None
                logger.setLevel(LOG4J_TO_PYTHON[level])
                log.warning("Updated the log level of %s to %s", name, level)
            else:
                logger.setLevel(logging.NOTSET)
                log.warning("Unset the log level of %s", name)
