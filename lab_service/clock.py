"""The lab's sense of time: UTC instants for storage, the hospital's local date for expiry and daily QC."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from common.models import utcnow

HOSPITAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def now() -> datetime:
    """Return the current instant, timezone-aware UTC."""
    return utcnow()


def today() -> date:
    """Return today's date in Vietnam, which is what a label's expiry date means."""
    return now().astimezone(HOSPITAL_TZ).date()


def local_date(instant: datetime) -> date:
    """Return the Vietnamese calendar date of an instant."""
    return instant.astimezone(HOSPITAL_TZ).date()
