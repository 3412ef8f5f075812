"""The hospital's sense of time, once for every service: UTC instants are stored; days, months and times shown or
judged (a card's validity, a lot's expiry, a daily QC, a claim's month) are Vietnamese calendar days in
Asia/Ho_Chi_Minh."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOSPITAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    """Return the current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Return today's date at the hospital."""
    return local_day(now())


def local_time(moment: datetime) -> datetime:
    """Return an aware instant in the hospital's zone (naive instants are UTC, as stored)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(HOSPITAL_TZ)


def local_day(moment: datetime | None = None) -> date:
    """Return the hospital's calendar day of an instant (now when absent)."""
    return local_time(moment or now()).date()


def day_span(first: date, last: date) -> tuple[datetime, datetime]:
    """Return the instants bounding the local days first..last inclusive: [first 00:00, day after last 00:00)."""
    return (datetime.combine(first, time.min, HOSPITAL_TZ),
            datetime.combine(last + timedelta(days=1), time.min, HOSPITAL_TZ))
