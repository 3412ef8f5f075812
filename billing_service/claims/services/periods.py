"""Settlement months: a period "YYYY-MM" is a calendar month in Vietnam local time, compared in UTC."""

import re
from datetime import UTC, datetime

from common import clock
from common.errors import ValidationFailed

PERIOD_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """Return the UTC instants where the local month `period` starts and the next one starts."""
    match = PERIOD_PATTERN.fullmatch(period or "")
    if match is None:
        raise ValidationFailed("A period is a month written YYYY-MM, e.g. 2026-11", code="PERIOD_INVALID",
                               errors={"period": ["Use YYYY-MM."]})
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=clock.HOSPITAL_TZ)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=clock.HOSPITAL_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def period_of(moment: datetime) -> str:
    """Return the local month of an aware instant as YYYY-MM."""
    return clock.local_time(moment).strftime("%Y-%m")
