"""A bill's totals and state, recomputed from its lines and its money inside the caller's transaction."""

import peewee

from billing_service import store
from billing_service.models import LEDGER_CHAIN, Invoice, InvoiceLine, db
from billing_service.vietqr import make_bill_reference
from common.errors import NotFound, get_or_404
from common.models import utcnow

BILL_PREFIX = "HD"  # hoá đơn; the reference a patient's bank shows in the transfer memo, e.g. HD000042
TOTAL_COLUMNS = ("hospital_amount", "insured_amount", "insurer_amount", "copay_amount", "patient_outside_amount",
                 "other_funding_amount")


def lock_invoice(invoice_id: int) -> Invoice:
    """Load a bill and hold its row lock until the transaction ends."""
    invoice = store.locked_invoice(invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}", code="INVOICE_NOT_FOUND")
    return invoice


def get_invoice(invoice_id: int) -> Invoice:
    """Return a bill or raise 404."""
    return get_or_404(Invoice, Invoice.id == invoice_id, detail=f"No invoice {invoice_id}", code="INVOICE_NOT_FOUND")


def open_invoice(encounter_id: str, patient_id: str) -> Invoice:
    """Return the visit's bill, creating it (with its bill reference) on the visit's first charge; locked."""
    existing = Invoice.get_or_none(Invoice.encounter_id == encounter_id)
    if existing is None:
        try:
            with db.atomic():
                existing = Invoice.create(encounter_id=encounter_id, patient_id=patient_id)
                reference = make_bill_reference(BILL_PREFIX, existing.id)
                Invoice.update(reference=reference).where(Invoice.id == existing.id).execute()
        except peewee.IntegrityError:  # a concurrent first charge of the same visit created it
            existing = Invoice.get(Invoice.encounter_id == encounter_id)
    return lock_invoice(existing.id)


def open_invoices(visits: dict[str, str]) -> dict[str, Invoice]:
    """Return the bills of these visits ({encounter id: patient id}), locked: those that exist in one read, in id
    order; then, in visit order, the bill of a visit's first charge is created."""
    invoices = {invoice.encounter_id: invoice for invoice in store.locked_invoices(visits)}
    for encounter_id in sorted(set(visits) - set(invoices)):
        invoices[encounter_id] = open_invoice(encounter_id, visits[encounter_id])
    return invoices


def invoice_state(invoice: Invoice, has_lines: bool) -> str:
    """Derive a bill's state from its totals: refunded, void, paid, partially_paid or open."""
    if invoice.refunded_amount > 0 and invoice.paid_amount > 0 and invoice.net_paid_amount <= 0:
        return "refunded"
    if has_lines and invoice.hospital_amount == 0:
        return "void"
    if has_lines and invoice.net_paid_amount >= invoice.patient_amount:
        return "paid"
    if invoice.net_paid_amount > 0:
        return "partially_paid"
    return "open"


def refresh_invoice(invoice_id: int) -> Invoice:
    """Recompute a bill's totals from its lines and its state from its money; return it as stored."""
    sums = (InvoiceLine.select(*[peewee.fn.COALESCE(peewee.fn.SUM(getattr(InvoiceLine, c)), 0) for c in TOTAL_COLUMNS],
                               peewee.fn.COUNT(InvoiceLine.id))
            .where(InvoiceLine.invoice == invoice_id).tuples().get())
    totals = {column: int(value) for column, value in zip(TOTAL_COLUMNS, sums, strict=False)}
    Invoice.update(updated_at=utcnow(), **totals).where(Invoice.id == invoice_id).execute()
    invoice = Invoice.get_by_id(invoice_id)
    state = invoice_state(invoice, has_lines=sums[-1] > 0)
    if state != invoice.state:
        Invoice.update(state=state).where(Invoice.id == invoice_id).execute()
        invoice.state = state
    return invoice


def with_lines_added(invoice: Invoice, lines: list[InvoiceLine], benefit_level) -> Invoice:
    """A locked bill as it is once new lines' money is added to its totals (its other lines unchanged), at the
    visit's benefit level; not stored yet (save_bill_totals)."""
    totals = {column: getattr(invoice, column) + sum(getattr(line, column) for line in lines)
              for column in TOTAL_COLUMNS}
    after = Invoice(**{**{name: getattr(invoice, name) for name in Invoice._meta.fields}, **totals})
    after.benefit_level, after.updated_at = benefit_level, utcnow()
    after.state = invoice_state(after, has_lines=True)
    return after


def save_bill_totals(invoices: list[Invoice]) -> None:
    """Store bills' totals, benefit levels and states (from with_lines_added), one statement for all."""
    store.save_bills(invoices, (*TOTAL_COLUMNS, "benefit_level", "state", "updated_at"))


def add_paid(invoice_id: int, amount: int) -> None:
    """Add money received to a bill in SQL (never read-modify-write)."""
    Invoice.update(paid_amount=Invoice.paid_amount + amount).where(Invoice.id == invoice_id).execute()


def add_refunded(invoice_id: int, amount: int) -> None:
    """Add money given back to a bill in SQL, never more than it received."""
    updated = (Invoice.update(refunded_amount=Invoice.refunded_amount + amount)
               .where((Invoice.id == invoice_id) & (Invoice.refunded_amount + amount <= Invoice.paid_amount))
               .execute())
    if updated != 1:
        raise RuntimeError(f"invoice {invoice_id} would give back more than it received")


def record_ledger(invoice_id: int, kind: str, reference: str, actor: str, *, before: Invoice | None = None,
                  after: Invoice | None = None, cash_amount: int = 0, note: str | None = None) -> None:
    """Append one ledger row with the change of the bill's totals between `before` and `after`."""
    store.append_chained(LEDGER_CHAIN, ledger_row(invoice_id, kind, reference, actor, before=before, after=after,
                                                  cash_amount=cash_amount, note=note))


def record_ledgers(rows: list[dict], bills: list[Invoice]) -> None:
    """Append ledger rows (ledger_row) to several locked bills, as read under their locks, in one statement."""
    store.append_chained_rows(LEDGER_CHAIN, rows, {bill.id: bill.ledger_head for bill in bills})


def ledger_row(invoice_id: int, kind: str, reference: str, actor: str, *, before: Invoice | None = None,
               after: Invoice | None = None, cash_amount: int = 0, note: str | None = None) -> dict:
    """A ledger row with the change of the bill's totals between `before` and `after`."""
    def delta(column: str) -> int:
        if before is None or after is None:
            return 0
        return getattr(after, column) - getattr(before, column)

    return {"invoice": invoice_id, "kind": kind, "reference": reference[:200], "actor": actor[:100],
            "hospital_amount": delta("hospital_amount"), "insurer_amount": delta("insurer_amount"),
            "patient_amount": delta("patient_amount"), "cash_amount": cash_amount,
            "note": note[:500] if note else None, "created_at": utcnow()}
