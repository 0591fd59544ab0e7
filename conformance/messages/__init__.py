"""The EMAP message model: the 23 messages of Table B-1, their schemas (B.6), validation, tables and builders."""

from . import build, rules, timefmt
from .schema import schema_of
from .tables import (
    LOWER_RESOURCES,
    MESSAGES,
    POLL_REPLIES,
    RESOURCES,
    RESPONSE_OF,
    RESPONSES_OF,
    SERVICE_RESOURCE,
    UPPER_RESOURCES,
    MessageInfo,
)
from .validate import MessageError, ValidMessage, encode, validate

__all__ = [
    "LOWER_RESOURCES", "MESSAGES", "POLL_REPLIES", "RESOURCES", "RESPONSE_OF", "RESPONSES_OF", "SERVICE_RESOURCE",
    "UPPER_RESOURCES", "MessageError", "MessageInfo", "ValidMessage", "build", "encode", "rules", "schema_of",
    "timefmt", "validate",
]
