"""Structured logs (JSON by default) carrying the request or job id; secrets are masked."""

from __future__ import annotations

import functools
import logging
import re
import sys

import structlog

_SECRET_KEYS = re.compile(r"(password|token|secret|authorization|api_key|cookie)", re.I)
_BEARER = re.compile(r"(Bearer\s+|agy_)[A-Za-z0-9._\-]+")


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: str) -> bool:
    return _SECRET_KEYS.search(key) is not None


def _mask_secrets(_logger, _name, event_dict):
    for key in list(event_dict):
        value = event_dict[key]
        if _is_secret_key(key):
            event_dict[key] = "***"
        elif isinstance(value, str) and ("Bearer" in value or "agy_" in value):  # _BEARER's prefixes
            event_dict[key] = _BEARER.sub(r"\1***", value)
    return event_dict


def configure_logging(level: str = "INFO", json: bool = True, stream=None) -> None:
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _mask_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
