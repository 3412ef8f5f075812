"""billing_service demo data: none to invent. Bills are built from the charges lab and pharmacy send through the
gateway, and the demo visits reach billing as snapshots through the gateway's outbox, so every bill stays
consistent with the charge ledger. The hospital's bank account and payment settings come from billing_service.config.
"""

from billing_service.models import EncounterSnapshot, Invoice


def is_empty() -> bool:
    """Tell whether billing holds no bill and no visit yet."""
    return not Invoice.select().exists() and not EncounterSnapshot.select().exists()


def load() -> None:
    """Load nothing: demo bills appear when demo lab tests and dispenses are billed."""
    return None
