"""Claims verbs (batches, exports, remittances, reconciliation); routes import them from here."""

from billing_service.claims.services.batches import build_claim_batch, get_claim_batch, list_claim_batches
from billing_service.claims.services.checks import check_claim_batch, findings_as_csv, override_claim_batch
from billing_service.claims.services.claims import get_claim, list_claims
from billing_service.claims.services.export import export_claim_batch
from billing_service.claims.services.prices import list_insurance_prices, store_insurance_prices
from billing_service.claims.services.remittances import get_remittance, import_remittance, list_remittances
from billing_service.claims.services.report import as_csv, reconcile
from billing_service.claims.services.runs import get_reconciliation_run, start_reconciliation_run

__all__ = [
    "as_csv", "build_claim_batch", "check_claim_batch", "export_claim_batch", "findings_as_csv",
    "list_insurance_prices",
    "override_claim_batch", "store_insurance_prices", "get_claim", "get_claim_batch",
    "get_reconciliation_run", "get_remittance", "import_remittance", "list_claim_batches", "list_claims",
    "list_remittances", "reconcile", "start_reconciliation_run",
]
