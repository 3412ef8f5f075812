"""The Jinja filters every screen formats with, in one place: money, numbers, dates and times (Vietnamese style).

Money is integer đồng shown as `12.345.678 ₫`; quantities `200.000`; dates `dd/mm/yyyy`; times in the hospital's
zone (Asia/Ho_Chi_Minh) as `14:05`. The same in either language: these are the forms on Vietnamese paperwork.
The values come from the API as JSON (ISO 8601 text), or as Python dates and datetimes.
"""

from datetime import UTC, date, datetime

from flask import Flask

from common.clock import local_time

NBSP = "\u00a0"  # keeps the amount and its ₫ on one line


def number(value) -> str:
    """Group an integer's digits by thousands with dots: 1234567 -> 1.234.567."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}".replace(",", ".")


def money(value) -> str:
    """Show integer đồng: 12345678 -> 12.345.678 ₫."""
    if value is None or value == "":
        return ""
    return f"{number(value)}{NBSP}₫"


def _moment(value) -> datetime | None:
    """Read a datetime (ISO text or datetime; naive means UTC) into the hospital's zone."""
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return local_time(moment)


def day(value) -> str:
    """Show a date, or the hospital-local day of a moment, as dd/mm/yyyy."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    return _moment(value).strftime("%d/%m/%Y")


def clock(value) -> str:
    """Show the hospital-local time of a moment as HH:MM."""
    moment = _moment(value)
    return moment.strftime("%H:%M") if moment else ""


def moment(value) -> str:
    """Show a moment as dd/mm/yyyy HH:MM, hospital-local."""
    local = _moment(value)
    return local.strftime("%d/%m/%Y %H:%M") if local else ""


FILTERS = {"number": number, "money": money, "day": day, "clock": clock, "moment": moment}


def install(app: Flask) -> None:
    """Make the filters available to every template."""
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
