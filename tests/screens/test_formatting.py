"""The screens write money, quantities, dates and times as Vietnamese paperwork does, in the hospital's zone."""

from datetime import UTC, date, datetime

import pytest

from gateway.screens.formatting import clock, day, moment, money, number, whole


def test_money_is_whole_dong_with_dots_and_the_dong_sign():
    assert money(12_345_678) == "12.345.678\u00a0₫"
    assert money(0) == "0\u00a0₫" and money(-21_500) == "-21.500\u00a0₫" and money(None) == ""


def test_quantities_group_thousands_with_dots():
    assert number(150_000) == "150.000" and number(7) == "7"


def test_dates_are_day_month_year():
    assert day("2026-03-14") == "14/03/2026" and day(date(2027, 12, 31)) == "31/12/2027"


def test_times_are_shown_in_the_hospital_zone():
    late_evening_utc = "2026-11-30T18:30:00+00:00"  # 01:30 on 1 December in Hà Nội (UTC+7)
    assert clock(late_evening_utc) == "01:30" and day(late_evening_utc) == "01/12/2026"
    assert moment(datetime(2026, 5, 1, 2, 5, tzinfo=UTC)) == "01/05/2026 09:05"


@pytest.mark.parametrize("typed, read", [
    ("200000", 200_000), ("200.000", 200_000), ("1 200 000", 1_200_000), ("1\u00a0200\u00a0000", 1_200_000),
    ("200.000 ₫", 200_000), ("200.000đ", 200_000), (" 35 ", 35), ("-5", -5), ("", None), (None, None),
    ("1,5", "1,5"), ("1.5", "1.5"), ("12.34.567", "12.34.567"), ("1.2345", "1.2345"), ("mười", "mười"),
    ("1" * 19, "1" * 19)])
def test_a_typed_whole_number_is_read_with_thousands_dots_or_spaces_and_nothing_else(typed, read):
    """One reader for every form (lab, pharmacy, cashier): 1.5 is never read as 15, đồng as 1.5 million."""
    assert whole(typed) == read

