"""Other funding verbs: record a grant on a line or a visit, withdraw it; each re-splits the bill it is on."""

from billing_service.claims.models import Claim
from billing_service.models import Invoice, InvoiceLine, db
from billing_service.other_funding.models import OtherFunding
from billing_service.services.intake import settle_invoice
from billing_service.services.invoices import get_invoice, lock_invoice
from common.errors import ApiError, Conflict, NotFound
from common.models import utcnow


def _refuse_if_claimed(invoice: Invoice) -> None:
    """A claimed visit's money is what the insurer was sent: funding may not change it behind the claim."""
    claim = Claim.get_or_none(Claim.invoice == invoice.id)
    if claim is not None:
        raise Conflict(f"The visit of bill {invoice.reference} is already claimed (batch {claim.batch_id}); its "
                       "funding can no longer change", code="INVOICE_CLAIMED", claim_id=claim.id)


def _line_on(invoice: Invoice, line_id: int | None) -> InvoiceLine | None:
    if line_id is None:
        return None
    line = InvoiceLine.get_or_none((InvoiceLine.id == line_id) & (InvoiceLine.invoice == invoice.id))
    if line is None:
        raise ApiError(f"Line {line_id} is not on bill {invoice.reference}", code="LINE_NOT_ON_INVOICE", status=422)
    return line


def _check_room(invoice: Invoice, line: InvoiceLine | None, amount: int) -> None:
    """Refuse a grant larger than what its line (or the visit) still costs before other funding."""
    owner = line if line is not None else invoice
    available = owner.hospital_amount - owner.other_funding_amount
    if amount > available:
        where = f"line {line.id}" if line is not None else f"bill {invoice.reference}"
        raise ApiError(f"{amount} đ is more than the {available} đ of {where} not yet covered by other funding",
                       code="FUNDING_EXCEEDS_COST", status=422, available_amount=available)


def add_other_funding(invoice_id: int, fields: dict, actor: str) -> OtherFunding:
    """Record other funding on a line or on the whole visit and split the bill again with it."""
    with db.atomic():
        invoice = lock_invoice(invoice_id)
        _refuse_if_claimed(invoice)
        line = _line_on(invoice, fields.get("line_id"))
        _check_room(invoice, line, fields["amount"])
        grant = OtherFunding.create(invoice=invoice.id, line=line.id if line else None, source=fields["source"],
                                    target=fields["target"], amount=fields["amount"], reference=fields["reference"],
                                    note=fields["note"], created_by=actor)
        settle_invoice(invoice, "funding", f"other-funding:{grant.id}", note=f"{fields['source']} → "
                       f"{fields['target']}: {fields['amount']} đ")
    return OtherFunding.get_by_id(grant.id)


def withdraw_other_funding(funding_id: int, reason: str, actor: str) -> OtherFunding:
    """Withdraw a grant recorded by mistake (kept on file) and split its bill again without it."""
    with db.atomic():
        grant = OtherFunding.get_or_none(OtherFunding.id == funding_id)
        if grant is None:
            raise NotFound(f"No other funding {funding_id}", code="OTHER_FUNDING_NOT_FOUND")
        invoice = lock_invoice(grant.invoice_id)
        _refuse_if_claimed(invoice)
        withdrawn = (OtherFunding.update(state="withdrawn", withdrawn_by=actor, withdrawn_at=utcnow(),
                                         withdrawal_reason=reason, applied_amount=0)
                     .where((OtherFunding.id == grant.id) & (OtherFunding.state == "active")).execute())
        if not withdrawn:
            raise Conflict(f"Other funding {funding_id} was already withdrawn", code="OTHER_FUNDING_WITHDRAWN")
        settle_invoice(invoice, "funding", f"other-funding:{grant.id}:withdrawn", note=reason)
    return OtherFunding.get_by_id(grant.id)


def list_other_funding(invoice_id: int) -> list[OtherFunding]:
    """Return every grant recorded on a bill, active and withdrawn, oldest first."""
    invoice = get_invoice(invoice_id)
    return list(OtherFunding.select().where(OtherFunding.invoice == invoice.id).order_by(OtherFunding.id))
