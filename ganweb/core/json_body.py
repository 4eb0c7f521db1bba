"""JSON request bodies, parsed in one place with a size and a depth guard.

``json.loads`` of 100,000 ``[`` raises RecursionError, which no parser catches
(a 500); a body nested a few hundred deep parses, then costs every recursive
validator after it. No request of ours nests deeper than a handful of levels.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.settings import api_settings

MAX_DEPTH = 32  # arrays and objects inside one another


class JsonBodyError(ValueError):
    """A body that is not JSON we accept (always the client's fault)."""


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the JSON body is too large"
    default_code = "too_large"


def max_json_bytes() -> int:
    """Django's own limit on a request body held in memory."""
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)


def nesting_depth(value, limit: int = MAX_DEPTH) -> int:
    """How deep lists and dicts nest in ``value`` (0 for a scalar), counted
    without recursion and stopping once past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def json_loads(text: str | bytes, *, strict: bool = True):
    """``text`` as JSON, or JsonBodyError saying why not (bad syntax, NaN when
    ``strict``, nesting past MAX_DEPTH)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant if strict else None)
    except RecursionError as exc:
        raise JsonBodyError(f"JSON nested more than {MAX_DEPTH} deep") from exc
    except ValueError as exc:  # also bad UTF-8 and 5,000-digit numbers
        raise JsonBodyError(f"JSON parse error - {exc}") from exc
    if nesting_depth(value) > MAX_DEPTH:
        raise JsonBodyError(f"JSON nested more than {MAX_DEPTH} deep")
    return value


class GuardedJSONParser(JSONParser):
    """DRF's JSON parser with the guards above (every API view uses it)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_json_bytes()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise BodyTooLarge(f"the JSON body is over {limit} bytes")
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        try:
            return json_loads(text, strict=api_settings.STRICT_JSON)
        except JsonBodyError as exc:
            raise ParseError(str(exc)) from exc
