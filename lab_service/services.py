"""Lab verbs; each owns its transaction."""

import peewee

from common.errors import Conflict
from lab_service.models import Reagent, db


def create_reagent(fields: dict) -> Reagent:
    """Add a reagent to the catalogue; its code must be new."""
    try:
        with db.atomic():
            return Reagent.create(**fields)
    except peewee.IntegrityError:
        raise Conflict(f"Reagent {fields['code']} already exists", code="REAGENT_EXISTS") from None
