"""The dispense line a claim line came from, as finance opens it from a pre-submission finding or a rejection."""

from common.errors import NotFound
from pharmacy_service.models import DispenseLine
from pharmacy_service.services.dispensing import dispense_view


def dispense_line_source(line_id: int) -> dict:
    """Return the dispense a line belongs to, with its lots, naming the line."""
    line = DispenseLine.get_or_none(DispenseLine.id == line_id)
    if line is None:
        raise NotFound(f"No dispense line {line_id}", code="DISPENSE_LINE_NOT_FOUND")
    return {**dispense_view(line.dispense_id), "line_id": line.id}
