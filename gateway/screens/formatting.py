"""The Jinja filters every screen formats with, in one place: money, numbers, dates and times (Vietnamese style).

Money is integer đồng shown as `12.345.678 ₫`; quantities `200.000`; dates `dd/mm/yyyy`; times in the hospital's
zone (Asia/Ho_Chi_Minh) as `14:05`. The same in either language: these are the forms on Vietnamese paperwork.
The values come from the API as JSON (ISO 8601 text), or as Python dates and datetimes.
"""

import re
from datetime import UTC, date, datetime

from flask import Flask

from common.clock import local_time

NBSP = "\u00a0"  # keeps the amount and its ₫ on one line


# what `number` and `money` write, read back: 200000, 200.000, 200 000 (a plain or no-break space), an optional ₫ or
# đ after it; never a decimal point or comma (1.5 and 1,5 are not whole numbers: they go to the API as typed)
TYPED_WHOLE = re.compile(r"(-?(?:\d{1,18}|\d{1,3}(?:[. \u00a0]\d{3}){1,5}))\s*[₫đ]?", re.IGNORECASE)


def whole(text: str | None) -> int | str | None:
    """Read a typed whole number ("200.000", "200 000", "200000", "200.000 ₫"). Empty is None; anything else
    ("1,5", "1.5", words) comes back as typed, for the API to refuse naming its field."""
    text = (text or "").strip()
    if not text:
        return None
    typed = TYPED_WHOLE.fullmatch(text)
    return int(re.sub(r"[. \u00a0]", "", typed.group(1))) if typed else text


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
