"""Structured logs: JSON when not on a terminal. Ids travel in context variables; personal data
(names, victim details, notes, titles) is never passed to a logger.

Everything goes through the standard library's root handler with structlog's formatter, so the
lines FastStream and nats-py write look like ours.
"""

from __future__ import annotations

import logging
import sys

import structlog

from services.core.settings import LogFormat

_configured = False

# The logger FastStream is given for our broker (see services.core.broker).
BROKER_LOGGER = "faststream.pathways"

# Libraries that narrate every message or connection at info level. httpx's and Apprise's lines
# name whole URLs, with any password or token in them (webhook and Apprise targets).
_QUIET = ("faststream", "nats", "asyncio", "httpx", "httpcore", "apprise", "uvicorn")


def configure_logging(log_format: LogFormat = LogFormat.AUTO, level: str = "info") -> None:
    global _configured
    if _configured:
        return
    _configured = True
    use_console = log_format is LogFormat.CONSOLE or (
        log_format is LogFormat.AUTO and sys.stderr.isatty()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
    _adopt_library_loggers()
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(root.level, logging.WARNING))
    logging.getLogger(BROKER_LOGGER).addFilter(_PullTimeoutNoise())


def _adopt_library_loggers() -> None:
    """FastStream gives its `faststream` logger a handler of its own at import time, with
    colour codes and plain-text tracebacks, and stops it propagating; our broker logger is its
    child, so FastStream's errors went there too. Every such logger now hands its records to
    the root handler, which renders them like ours."""
    for name in ("faststream", *_library_loggers("faststream.")):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


def _library_loggers(prefix: str) -> list[str]:
    return [name for name in logging.root.manager.loggerDict if name.startswith(prefix)]


class _PullTimeoutNoise(logging.Filter):
    """FastStream 0.7 restarts a pull consumer whose fetch times out with the built-in
    TimeoutError that nats-py 2.16 sometimes raises (it expects nats.errors.TimeoutError), and
    logs a traceback for it. The consumer carries on; the traceback is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, TimeoutError)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
