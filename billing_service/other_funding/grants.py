"""Read a bill's active grants of other funding for its split, and store what each grant could be applied for."""

from billing_service.other_funding.models import OtherFunding
from billing_service.other_funding.rules import Grant


def active_grants(invoice_id: int) -> list[Grant]:
    """Return the bill's active grants, in the order they were recorded."""
    rows = (OtherFunding.select(OtherFunding.id, OtherFunding.source, OtherFunding.target, OtherFunding.amount,
                                OtherFunding.line, OtherFunding.applied_amount)
            .where((OtherFunding.invoice == invoice_id) & (OtherFunding.state == "active")).order_by(OtherFunding.id))
    return [Grant(key=row.id, source=row.source, target=row.target, amount=row.amount, line_key=row.line_id)
            for row in rows]


def store_applied(applied: dict[int, int]) -> None:
    """Keep each grant's applied amount in step with the latest split of its bill."""
    for grant_id, amount in applied.items():
        (OtherFunding.update(applied_amount=amount)
         .where((OtherFunding.id == grant_id) & (OtherFunding.applied_amount != amount)).execute())
