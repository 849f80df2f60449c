"""The BROKER_LOGGER resource over a private logger tree: Kafka's validation messages (RuntimeLoggerManager.java,
ConfigHelper.scala) and levels resolved through parents (Log4jController.scala)."""

from __future__ import annotations

import logging

import pytest

from brook.broker.log_levels import OP_APPEND, OP_DELETE, OP_SET, RuntimeLoggerManager
from brook.errors import ErrorCode, KafkaError


@pytest.fixture
def manager() -> RuntimeLoggerManager:
    root = logging.RootLogger(logging.INFO)
    root.manager = logging.Manager(root)  # type: ignore[misc]
    root.manager.getLogger("kafka.log.LogManager")
    return RuntimeLoggerManager(3, root)


def error(manager: RuntimeLoggerManager, *ops: tuple[str, int, str | None]) -> tuple[ErrorCode, str | None]:
    with pytest.raises(KafkaError) as e:
        manager.validate(list(ops))
    return e.value.code, e.value.message


def test_levels_resolve_through_parents_and_unset(manager) -> None:
    assert manager.loggers()["kafka.log.LogManager"] == "INFO" and manager.loggers()["root"] == "INFO"
    ops = [("kafka", OP_SET, "DEBUG")]
    manager.validate(ops)
    manager.apply(ops)
    assert manager.loggers()["kafka.log.LogManager"] == "DEBUG" and manager.loggers()["kafka"] == "DEBUG"
    manager.apply([("kafka.log.LogManager", OP_SET, "TRACE")])
    assert manager.loggers()["kafka.log.LogManager"] == "TRACE"
    manager.apply([("kafka.log.LogManager", OP_DELETE, None), ("kafka", OP_DELETE, None)])
    assert manager.loggers()["kafka.log.LogManager"] == "INFO"


def test_validation_messages(manager) -> None:
    assert error(manager, ("kafka.nope", OP_SET, "INFO")) == (ErrorCode.invalid_config,
                                                             "Logger kafka.nope does not exist!")
    assert error(manager, ("kafka", OP_SET, "LOUD")) == (
        ErrorCode.invalid_config, "Cannot set the log level of kafka to LOUD as it is not a supported log level. "
        "Valid log levels are DEBUG, ERROR, FATAL, INFO, TRACE, WARN")
    assert error(manager, ("root", OP_DELETE, None)) == (
        ErrorCode.invalid_request, "Removing the log level of the root logger is not allowed")
    assert error(manager, ("kafka", OP_APPEND, "INFO")) == (
        ErrorCode.invalid_request, "APPEND operation is not allowed for the BROKER_LOGGER resource")
    with pytest.raises(KafkaError, match="Unexpected broker id, expected 3 but received 4"):
        manager.check_resource_name("4", for_describe=True)
    with pytest.raises(KafkaError, match="Broker id must not be empty"):
        manager.check_resource_name("", for_describe=True)
    with pytest.raises(KafkaError, match="Node id must be an integer, but it is: x"):
        manager.check_resource_name("x", for_describe=False)
