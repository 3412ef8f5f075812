"""billing_service demo data: the BHYT price list of the demo catalogue, and no bill. Bills are built from the charges
lab and pharmacy send through the gateway, and the demo visits reach billing as snapshots through the gateway's
outbox, so every bill stays consistent with the charge ledger. The hospital's bank account and payment settings come
from billing_service.config.
"""

from datetime import date

from billing_service.claims.models import InsurancePrice
from billing_service.claims.services import store_insurance_prices
from billing_service.models import EncounterSnapshot, Invoice
from seeds.lab_service import TESTS
from seeds.pharmacy_service import DRUGS

SERVICE_PRICES = "TT 22/2023/TT-BYT (giá dịch vụ khám bệnh, chữa bệnh BHYT)"
DRUG_PRICES = "QĐ 2156/QĐ-SYT kết quả lựa chọn nhà thầu cung cấp thuốc năm 2026"


def price_list() -> list[dict]:
    """The BHYT prices of the demo lab tests and of the drugs in the BHYT list (hospital price = BHYT price)."""
    tests = [{"code": t["service_code"], "item_kind": "service", "name": t["name"], "unit_name": "Lần",
              "price_amount": t["insurance_price_amount"], "valid_from": date(2024, 1, 1), "valid_to": None,
              "decision": SERVICE_PRICES} for t in TESTS]
    drugs = [{"code": d["code"], "item_kind": "drug", "name": f"{d['name']} {d['strength']}",
              "unit_name": d["unit_name"], "price_amount": d["price_amount"], "valid_from": date(2026, 1, 1),
              "valid_to": None, "decision": DRUG_PRICES} for d in DRUGS.values() if d["insurance_scope"] == 1]
    return tests + drugs


def is_empty() -> bool:
    """Tell whether billing holds no bill, no visit and no price list yet."""
    return (not Invoice.select().exists() and not EncounterSnapshot.select().exists()
            and not InsurancePrice.select().exists())


def load() -> None:
    """Load the BHYT price list; demo bills appear when demo lab tests and dispenses are billed."""
    store_insurance_prices(price_list())
