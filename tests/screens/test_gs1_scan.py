"""Reading keyboard-wedge scans of drug-pack DataMatrix codes, with and without their group separators."""

from datetime import date

import pytest

from common.gs1 import GS, GS1Error, element_string, parse_gs1, read_scan

GTIN = "08936000110017"  # the demo amoxicillin's GTIN-14 (Vietnamese prefix 893, valid check digit)
TODAY = date(2026, 12, 1)


def test_a_scan_with_its_group_separator_reads_exactly():
    scan = read_scan(f"]d201{GTIN}17270630" f"10AMX2701{GS}21SN0012345678", today=TODAY)
    assert (scan.gtin, scan.expires_on, scan.lot_number, scan.serial) == (
        GTIN, date(2027, 6, 30), "AMX2701", "SN0012345678")
    assert not scan.separator_missing and scan.other_readings == 0 and scan.complete


def test_a_dropped_separator_between_lot_and_serial_is_found_by_the_serial_ai():
    scan = read_scan(f"01{GTIN}17270630" "10AMX2701" "21SN0012345678", today=TODAY)
    assert (scan.lot_number, scan.serial) == ("AMX2701", "SN0012345678")
    assert scan.separator_missing


def test_a_dropped_separator_before_a_fixed_length_ai_is_found_by_its_valid_date():
    scan = read_scan(f"01{GTIN}" "10AMX2701" "17270600", today=TODAY)  # day 00: the month's last day
    assert (scan.lot_number, scan.expires_on, scan.serial) == ("AMX2701", date(2027, 6, 30), None)
    assert scan.separator_missing


def test_serial_first_then_expiry_and_lot_without_separators():
    scan = read_scan(f"01{GTIN}" "21K7Q2M9X4" "17270630" "10AMX2701", today=TODAY)
    assert (scan.serial, scan.expires_on, scan.lot_number) == ("K7Q2M9X4", date(2027, 6, 30), "AMX2701")


def test_an_ambiguous_split_prefers_a_lot_already_on_file():
    text = f"01{GTIN}17270630" "10LOT2129" "21ABCDEF"  # the lot holds "21": LOT / 29...? or LOT2129 / ABCDEF
    guessed = read_scan(text, today=TODAY)
    assert guessed.separator_missing and guessed.other_readings >= 1
    known = read_scan(text, known_lots=["LOT2129"], today=TODAY)
    assert (known.lot_number, known.serial) == ("LOT2129", "ABCDEF")


def test_the_human_readable_form_typed_from_the_label():
    scan = read_scan(f"(01){GTIN}(17)270630(10)AMX2701(21)SN1", today=TODAY)
    assert (scan.gtin, scan.lot_number, scan.serial) == (GTIN, "AMX2701", "SN1")


def test_a_scan_without_lot_is_read_but_not_complete():
    scan = read_scan(f"01{GTIN}17270630", today=TODAY)
    assert scan.gtin == GTIN and not scan.complete


@pytest.mark.parametrize("text", ["", "   ", "hello", f"01{GTIN[:-1]}9" "17270630" "10AMX", f"01{GTIN}17271332" "10AMX",
                                  "]Q1http://example.org", f"01{GTIN}17270630" "10" + "A" * 21, "\r\n"])
def test_bad_scans_raise_a_gs1_error_with_a_reason(text):
    with pytest.raises(GS1Error) as raised:
        read_scan(text, today=TODAY)
    assert str(raised.value)


def test_the_element_string_written_back_keeps_every_separator_and_the_api_reads_it_the_same():
    scan = read_scan(f"01{GTIN}1727063010AMX270121SN0012345678", today=TODAY)
    written = scan.element_string()
    assert written == f"01{GTIN}17270630" f"10AMX2701{GS}21SN0012345678"
    parsed = parse_gs1(written, today=TODAY)
    assert (parsed["lot_number"], parsed["serial"], parsed["expires_on"]) == ("AMX2701", "SN0012345678",
                                                                             date(2027, 6, 30))
    assert element_string(GTIN, date(2027, 6, 30), "AMX2701", None) == f"01{GTIN}1727063010AMX2701"
