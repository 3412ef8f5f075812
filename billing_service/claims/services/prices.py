"""The BHYT price list: loaded by finance from the insurer's published list, read by the pre-submission check."""

from billing_service.claims.models import InsurancePrice
from billing_service.models import db
from common.paging import page


def store_insurance_prices(rows: list[dict]) -> int:
    """Add or replace price-list rows (one per code and start date); return how many were stored."""
    with db.atomic():
        for row in rows:
            (InsurancePrice.insert(**row)
             .on_conflict(conflict_target=[InsurancePrice.code, InsurancePrice.valid_from],
                          update={name: row[name] for name in ("item_kind", "name", "unit_name", "price_amount",
                                                               "valid_to", "decision")})
             .execute())
    return len(rows)


def list_insurance_prices(query: dict) -> list[InsurancePrice]:
    """List one page of the price list by code (a code's rows in the order they were first loaded), optionally of
    one code."""
    selection = InsurancePrice.select()
    if query.get("code"):
        selection = selection.where(InsurancePrice.code == query["code"])
    return page(selection, InsurancePrice.code, query, descending=False, then=InsurancePrice.id)
