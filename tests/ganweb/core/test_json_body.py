"""JSON bodies: nesting and size are bounded before anything validates them."""

from __future__ import annotations

import io

import pytest
from rest_framework.exceptions import ParseError

from ganweb.core.json_body import (
    MAX_DEPTH,
    BodyTooLarge,
    GuardedJSONParser,
    JsonBodyError,
    json_loads,
    nesting_depth,
)


@pytest.mark.parametrize(
    "value,depth",
    [(1, 0), ("x", 0), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[]], []], 3)],
)
def test_nesting_depth_counts_lists_and_objects(value, depth):
    assert nesting_depth(value) == depth


def test_nesting_just_inside_the_limit_parses():
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert nesting_depth(json_loads(text)) == MAX_DEPTH


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 100_000])
def test_deeper_nesting_is_refused_whatever_the_depth(depth):
    # 100,000 raised RecursionError inside json.loads; 500 parses, then would
    # cost every recursive validator after it.
    with pytest.raises(JsonBodyError, match="nested"):
        json_loads("[" * depth + "]" * depth)
    with pytest.raises(JsonBodyError, match="nested"):
        json_loads('{"a":' * depth + "1" + "}" * depth)


@pytest.mark.parametrize("text", ["[1,", "NaN", "[Infinity]", "1" * 5000, b"\xff"])
def test_bad_json_is_a_json_body_error(text):
    with pytest.raises(JsonBodyError):
        json_loads(text)


def test_the_parser_reads_no_more_than_the_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = io.BytesIO(b'{"name": "' + b"x" * 5000 + b'"}')
    with pytest.raises(BodyTooLarge):
        GuardedJSONParser().parse(body)
    assert body.tell() == 1001  # the rest never left the socket's buffer
    assert GuardedJSONParser().parse(io.BytesIO(b'{"n": [1, 2]}')) == {"n": [1, 2]}


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"[1,", b"\xff\xfe{", b"NaN"])
def test_the_parser_turns_every_bad_body_into_a_parse_error(raw):
    with pytest.raises(ParseError):
        GuardedJSONParser().parse(io.BytesIO(raw))
