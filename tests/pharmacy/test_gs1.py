"""Tests for the GS1 DataMatrix element string parser."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.gs1 import GS1Error, gtin_check_digit, parse_gs1

GS = "\x1d"
GTIN = "08936012345674"  # Vietnamese GS1 prefix 893, valid check digit
TODAY = date(2026, 6, 15)


def test_raw_datamatrix_with_symbology_identifier():
    text = f"]d201{GTIN}17271231" + f"10LOT1{GS}21SER0001"
    assert parse_gs1(text, today=TODAY) == {
        "gtin": GTIN, "expires_on": date(2027, 12, 31), "lot_number": "LOT1", "serial": "SER0001",
        "produced_on": None, "best_before": None,
    }


def test_human_readable_form():
    result = parse_gs1(f"(01){GTIN}(17)271231(10)LOT1(21)SER", today=TODAY)
    assert (result["gtin"], result["expires_on"], result["lot_number"], result["serial"]) == (
        GTIN, date(2027, 12, 31), "LOT1", "SER")


def test_human_readable_tolerates_spaces():
    result = parse_gs1(f"(01) {GTIN} (17) 271231 (10) A-12/3", today=TODAY)
    assert result["lot_number"] == "A-12/3"


def test_leading_fnc1_trailing_newline_and_any_order():
    text = f"{GS}21ABC{GS}10L9{GS}01{GTIN}17280200\r\n"
    result = parse_gs1(text, today=TODAY)
    assert result["serial"] == "ABC" and result["lot_number"] == "L9" and result["gtin"] == GTIN
    assert result["expires_on"] == date(2028, 2, 29)  # day 00 → last day of month (leap year)


def test_redundant_separator_after_fixed_field():
    assert parse_gs1(f"01{GTIN}{GS}17270600", today=TODAY)["expires_on"] == date(2027, 6, 30)


def test_production_and_best_before_dates_are_kept():
    result = parse_gs1(f"01{GTIN}11250115" + "15270100" + "17270131", today=TODAY)
    assert result["produced_on"] == date(2025, 1, 15)
    assert result["best_before"] == date(2027, 1, 31)
    assert result["expires_on"] == date(2027, 1, 31)
    assert result["lot_number"] is None and result["serial"] is None


def test_gs1_example_gtin():
    assert parse_gs1("0109501101530003", today=TODAY)["gtin"] == "09501101530003"


def test_century_window():
    assert parse_gs1("17990101", today=TODAY)["expires_on"] == date(1999, 1, 1)
    assert parse_gs1("17750101", today=TODAY)["expires_on"] == date(2075, 1, 1)
    assert parse_gs1("17020101", today=date(2098, 1, 1))["expires_on"] == date(2102, 1, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"01{GTIN[:-1]}5", "check digit 5, expected 4"),
        ("0108936012345", "needs 14 characters"),
        ("01089360123456AB", "GTIN must be 14 digits"),
        (f"01{GTIN}99ABC", "unknown or unsupported AI '99'"),
        (f"(01){GTIN}(240)X", r"unknown or unsupported AI \(240\)"),
        (f"01{GTIN}17271301", "invalid month 13"),
        (f"01{GTIN}17270231", "not a valid calendar date"),
        (f"01{GTIN}1727AB31", "must be YYMMDD"),
        ("10" + "L" * 21, "max 20"),
        (f"10LOT121SERIAL{'9' * 10}", "missing group separator"),
        ("10LOT 1", "character set 82"),
        (f"10{GS}21S", "lot_number is empty"),
        (f"10A{GS}10B", "more than once"),
        (f"]d101{GTIN}", "does not denote GS1"),
        ("", "empty"),
        ("]d2", "empty"),
        ("junk(01)" + GTIN, "unknown or unsupported AI 'ju'"),
        ("(AB)123(01)" + GTIN, "before the first"),
    ],
)
def test_errors_are_clear(text, message):
    with pytest.raises(GS1Error, match=message):
        parse_gs1(text, today=TODAY)


def test_gs1error_is_a_value_error():
    assert issubclass(GS1Error, ValueError)


CHARSET_82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@given(
    data=st.text(alphabet="0123456789", min_size=13, max_size=13),
    lot=st.text(alphabet=CHARSET_82, min_size=1, max_size=20),
    serial=st.text(alphabet=CHARSET_82, min_size=1, max_size=20),
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2075, 12, 31)),
)
def test_raw_round_trip(data, lot, serial, expiry):
    gtin = data + str(gtin_check_digit(data))
    text = f"]d201{gtin}17{expiry:%y%m%d}10{lot}{GS}21{serial}"
    assert parse_gs1(text, today=TODAY) == {
        "gtin": gtin, "expires_on": expiry, "lot_number": lot, "serial": serial,
        "produced_on": None, "best_before": None,
    }
