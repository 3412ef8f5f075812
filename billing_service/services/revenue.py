"""What the bills earned from each lab charge: the lab's margin report joins it with its reagent cost."""

from datetime import datetime

from billing_service.models import InvoiceLine

PAYER_BHYT, PAYER_SELF = "bhyt", "self_pay"


def charge_revenue(source: str, since: datetime, until: datetime) -> list[dict]:
    """Return, per charge of `source` that happened in [since, until), what its bill line now earns and from whom."""
    rows = (InvoiceLine.select(InvoiceLine.charge_key, InvoiceLine.quantity, InvoiceLine.hospital_amount,
                               InvoiceLine.insurer_amount, InvoiceLine.copay_amount,
                               InvoiceLine.patient_outside_amount, InvoiceLine.other_funding_amount,
                               InvoiceLine.self_pay, InvoiceLine.insurance_covered)
            .where((InvoiceLine.source == source) & (InvoiceLine.occurred_at >= since)
                   & (InvoiceLine.occurred_at < until))
            .order_by(InvoiceLine.id).dicts())
    return [{"charge_key": row["charge_key"], "quantity": row["quantity"], "revenue_amount": row["hospital_amount"],
             "insurer_amount": row["insurer_amount"],
             "patient_amount": row["copay_amount"] + row["patient_outside_amount"],
             "other_funding_amount": row["other_funding_amount"],
             "payer": PAYER_BHYT if row["insurance_covered"] and not row["self_pay"] else PAYER_SELF}
            for row in rows.iterator()]
