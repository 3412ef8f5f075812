"""Realistic billing test data: a Hà Nội patient with a BHYT card, lab tests and drugs with BHYT codes and prices."""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta

from tests.support import bearer, service_headers

NOW = datetime.now(UTC).replace(microsecond=0)
BANK_ACCOUNT = "113366668888"
BANK_SECRET = "test-bank-webhook-secret-0123456789"
STRIPE_SECRET = "whsec_test_0123456789abcdefghijkl"
BILLING_CONFIG = {"BANK_WEBHOOK_SECRET": BANK_SECRET, "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
                  "HOSPITAL_BANK_BIN": "970415", "HOSPITAL_BANK_ACCOUNT": BANK_ACCOUNT}

# MA_DICH_VU, name, unit price in đồng (BHYT price list values of the kind hospitals bill)
GLUCOSE = ("23.0075.1494", "Định lượng Glucose [Máu]", 21_500, {"loinc": "2345-7"})
HBA1C = ("23.0083.1523", "Định lượng HbA1c [Máu]", 101_000, {"loinc": "4548-4"})
BLOOD_COUNT = ("22.0120.1370", "Tổng phân tích tế bào máu ngoại vi (bằng máy đếm laser)", 46_200,
               {"loinc": "58410-2"})
CEFTRIAXONE = ("40.268", "Ceftriaxone 1g (bột pha tiêm)", 35_000, {"atc": "J01DD04", "route": "2.15"})


def patient(number: int = 1) -> dict:
    return {"id": f"BN{number:06d}", "full_name": "Nguyễn Văn An", "birth_date": "1985-03-12", "sex": "male",
            "cccd": f"0010850{number:05d}", "address": "12 Phố Huế, phường Hàng Bài, quận Hoàn Kiếm, Hà Nội"}


def coverage(level: int = 80, valid_from: date | None = None, valid_to: date | None = None) -> dict:
    today = NOW.date()
    return {"card_number": "DN4010123456789", "registered_facility": "01001",
            "valid_from": (valid_from or today.replace(month=1, day=1)).isoformat(),
            "valid_to": (valid_to or today + timedelta(days=180)).isoformat(), "benefit_level": level}


def encounter(encounter_id: str = "LK-2026-0001", level: int | None = 80, in_network: bool = True,
              network_rate: int = 100, status: str = "open", card: dict | None = None, number: int = 1) -> dict:
    body = {"id": encounter_id, "kind": "outpatient", "department": "K01 Khoa Khám bệnh", "in_network": in_network,
            "network_rate": network_rate, "opened_at": (NOW - timedelta(hours=2)).isoformat(), "status": status,
            "patient": patient(number), "coverage": card if card is not None else (
                coverage(level) if level else None)}
    if status == "closed":
        body.update(diagnosis_main="E11.9", discharged_at=NOW.isoformat())
    return body


def charge(item=GLUCOSE, key: str = "lab:test-run:1", quantity: int = 1, encounter_id: str = "LK-2026-0001",
           covered: bool = True, insurance_price: int | None = None, occurred_at: datetime | None = None,
           number: int = 1) -> dict:
    code, name, price, details = item
    kind = "drug" if code.startswith("40.") else "service"
    return {"key": key, "source": "pharmacy" if kind == "drug" else "lab", "source_id": key.rsplit(":", 1)[-1],
            "encounter_id": encounter_id, "patient_id": f"BN{number:06d}", "item_kind": kind, "code": code,
            "name": name, "unit": "Lọ" if kind == "drug" else "Lần", "quantity": quantity, "unit_price_amount": price,
            "insurance_unit_price_amount": price if insurance_price is None else insurance_price,
            "insurance_covered": covered, "insurance_rate": 100, "amount": quantity * price,
            "occurred_at": (occurred_at or NOW - timedelta(hours=1)).isoformat(), "details": details}


def billable(charge_body: dict, encounter_body: dict | None = None) -> dict:
    return {"charge": charge_body, "encounter": encounter_body or encounter(charge_body["encounter_id"])}


def reversal(charge_key: str, quantity: int = 1, amount: int = 21_500, key: str | None = None) -> dict:
    return {"key": key or f"{charge_key}:void", "charge_key": charge_key, "source": "lab",
            "encounter_id": "LK-2026-0001", "quantity": quantity, "amount": amount,
            "reason": "Mẫu bệnh phẩm bị vỡ hồng cầu, làm lại", "occurred_at": NOW.isoformat()}


def post_charge(client, charge_body: dict, encounter_body: dict | None = None):
    body = billable(charge_body, encounter_body)
    return client.post("/internal/charges", json=body,
                       headers={**service_headers("gateway"), "Idempotency-Key": charge_body["key"]})


def invoice_of(client, encounter_id: str = "LK-2026-0001") -> dict:
    listing = client.get(f"/api/v1/billing/invoices?encounter_id={encounter_id}", headers=bearer("cashier"))
    assert listing.status_code == 200, listing.get_json()
    [summary] = listing.get_json()
    return client.get(f"/api/v1/billing/invoices/{summary['id']}", headers=bearer("cashier")).get_json()


def bank_notice(memo: str, amount: int, transaction_id: str = "FT26327123456789", account: str = BANK_ACCOUNT,
                occurred_at: datetime | None = None) -> bytes:
    return json.dumps({"transaction_id": transaction_id, "account": account, "amount": amount, "memo": memo,
                       "occurred_at": (occurred_at or datetime.now(UTC)).isoformat()}).encode()


def bank_signature(raw: bytes, secret: str = BANK_SECRET) -> dict:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Signature": f"sha256={digest}", "Content-Type": "application/json"}


def stripe_signature(raw: bytes, timestamp: int, secret: str = STRIPE_SECRET) -> dict:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}", "Content-Type": "application/json"}
