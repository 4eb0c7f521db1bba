"""Ids from users: ASCII digits, bounded, positive, within the database's integer."""

from __future__ import annotations

import pytest

from ganweb.core.ids import MAX_ID, IdConverter, parse_id, parse_step


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("1", 1),
        ("42", 42),
        ("0042", 42),
        (str(MAX_ID), MAX_ID),
        (7, 7),
        ("0", None),  # ids start at 1
        ("-1", None),
        ("+1", None),
        (" 7", None),
        ("7 ", None),
        ("1.0", None),
        ("1e3", None),
        ("0x10", None),
        ("1_000", None),
        ("²", None),  # str.isdigit() says yes to these three; int() refuses them
        ("³", None),
        ("①", None),
        ("٣", None),  # Arabic-Indic three: int() accepts it, an id is ASCII
        ("７", None),  # fullwidth seven
        (str(MAX_ID + 1), None),  # past a BigAutoField
        ("9" * 20, None),
        ("9" * 5000, None),  # past Python's int-from-str limit as well
        ("", None),
        (None, None),
        (True, None),
        (1.0, None),
        (0, None),
        (MAX_ID + 1, None),
        (["1"], None),
    ],
)
def test_parse_id_takes_only_ascii_digits_within_the_column(raw, expected):
    assert parse_id(raw) == expected


def test_parse_step_starts_at_zero():
    assert parse_step("0") == 0 and parse_step("0000100") == 100
    assert parse_step("²") is None and parse_step("-0") is None


@pytest.mark.parametrize("raw", ["0", str(MAX_ID + 1), "9" * 19 + "9"])
def test_url_converter_turns_out_of_range_ids_into_no_match(raw):
    with pytest.raises(ValueError):
        IdConverter().to_python(raw)
    assert IdConverter().to_python("12") == 12 and IdConverter().to_url(12) == "12"
