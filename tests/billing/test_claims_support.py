"""Claims test data fed through billing's real intake (POST /internal/charges, /internal/encounters).

October 2026 at a Hà Nội hospital (MA_CSKCB 01001): visits with real BHYT codes and prices, closed on known local
times, so the settlement month, STT numbering and every split are known in advance. No tests here, helpers only.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.billing.factories import BLOOD_COUNT, CEFTRIAXONE, GLUCOSE, HBA1C, charge, post_charge
from tests.support import bearer, service_headers

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
PERIOD = "2026-10"
FINANCE = bearer("finance")
CARD_2026 = {"card_number": "DN4010123456789", "registered_facility": "01001", "valid_from": "2026-01-01",
             "valid_to": "2026-12-31", "benefit_level": 80}
PATIENTS = {
    1: ("Nguyễn Văn An", "1985-03-12", "male", "001085012345", "12 Phố Huế, phường Hàng Bài, quận Hoàn Kiếm, Hà Nội"),
    2: ("Trần Thị Bích Ngọc", "1972-08-30", "female", "001172004567", "45 Ngõ Huế, quận Hai Bà Trưng, Hà Nội"),
    3: ("Lê Văn Hùng", "1960-01-05", "male", "001060009876", "8 Trần Duy Hưng, quận Cầu Giấy, Hà Nội"),
    4: ("Phạm Thị Mai", "1995-11-20", "female", "001195003210", "102 Nguyễn Trãi, quận Thanh Xuân, Hà Nội"),
    5: ("Hoàng Văn Nam", "1980-06-15", "male", "001080007777", "3 Lý Thường Kiệt, quận Hoàn Kiếm, Hà Nội"),
}
DOCTOR = {"id": "3", "full_name": "BS.CKI Nguyễn Thị Thanh Hương", "licence_number": "002341/HNO-CCHN",
          "department": "K01 Khoa Khám bệnh"}
GLUCOSE_RESULT = {"loinc": "2345-7", "name": "Glucose máu", "value": "7.8", "unit": "mmol/L",
                  "reference_range": "3.9-6.4", "flag": "H"}


def hanoi(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """Return a Hà Nội local time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=HANOI)


def visit(encounter_id: str, number: int, *, insured: bool = True, day: int = 14, closed_at: datetime | None = None,
          kind: str = "outpatient") -> dict:
    """Return a visit snapshot as the gateway sends it; closed when `closed_at` is given."""
    name, birth, sex, cccd, address = PATIENTS[number]
    body = {"id": encounter_id, "kind": kind, "department": "K01", "in_network": True, "network_rate": 100,
            "opened_at": hanoi(day, 7, 30).isoformat(), "status": "open",
            "patient": {"id": f"BN{number:06d}", "full_name": name, "birth_date": birth, "sex": sex, "cccd": cccd,
                        "address": address},
            "coverage": dict(CARD_2026) if insured else None, "practitioner": dict(DOCTOR)}
    if closed_at is not None:
        body.update(status="closed", diagnosis_main="E11.9", diagnosis_other="I10", discharged_at=closed_at.isoformat())
    return body


def add(client, snapshot: dict, item, key: str, at: datetime, quantity: int = 1, details: dict | None = None):
    """Send one charge of `item` on the visit through billing's intake; assert it was stored."""
    body = charge(item, key=key, quantity=quantity, encounter_id=snapshot["id"], occurred_at=at,
                  number=int(snapshot["patient"]["id"][2:]))
    if details is not None:
        body["details"] = {**body["details"], **details}
    response = post_charge(client, body, {**snapshot, "status": "open"})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def close(client, snapshot: dict, closed_at: datetime) -> dict:
    """Close the visit the way the gateway does: the snapshot again, with diagnosis and discharge time."""
    closed = {**snapshot, "status": "closed", "diagnosis_main": "E11.9", "diagnosis_other": "I10",
              "discharged_at": closed_at.isoformat()}
    response = client.post("/internal/encounters", json=closed, headers=service_headers("gateway"))
    assert response.status_code in (200, 201), response.get_json()
    return closed


def reverse(client, charge_key: str, quantity: int, amount: int, encounter_id: str, source: str = "lab"):
    """Take back part or all of a charge, as lab (void) or pharmacy (return) would."""
    reason = "Bệnh nhân trả lại thuốc chưa dùng" if source == "pharmacy" else "Huỷ chỉ định, mẫu bị vỡ hồng cầu"
    body = {"key": f"{charge_key}:reversal:{quantity}", "charge_key": charge_key, "source": source,
            "encounter_id": encounter_id, "quantity": quantity, "amount": amount, "reason": reason,
            "occurred_at": hanoi(20, 9).isoformat()}
    response = client.post("/internal/charge-reversals", json=body, headers=service_headers("gateway"))
    assert response.status_code in (200, 201), response.get_json()


def invoice_id_of(client, encounter_id: str) -> int:
    listing = client.get(f"/api/v1/billing/invoices?encounter_id={encounter_id}", headers=bearer("cashier"))
    [summary] = listing.get_json()
    return summary["id"]


def pay_cash(client, encounter_id: str, amount: int) -> None:
    """The cashier takes cash for the patient's share at the counter."""
    response = client.post(f"/api/v1/billing/invoices/{invoice_id_of(client, encounter_id)}/payments",
                           json={"method": "cash", "amount": amount, "reason": "Thu tiền mặt tại quầy"},
                           headers=bearer("cashier"))
    assert response.status_code == 201, response.get_json()


def an_october_visit(client, encounter_id: str = "LK-2026-1001", number: int = 1) -> dict:
    """Glucose (with a result), HbA1c and 10 vials of ceftriaxone on an 80 % card, closed 14/10 11:30 (Hà Nội).

    Total 472 500 đ is over the low-cost threshold, so every line is split 80/20: BHYT 378 000, patient 94 500.
    """
    snapshot = visit(encounter_id, number)
    add(client, snapshot, GLUCOSE, f"lab:test-run:{encounter_id}:1", hanoi(14, 8, 5), details={
        "results": [GLUCOSE_RESULT]})
    add(client, snapshot, HBA1C, f"lab:test-run:{encounter_id}:2", hanoi(14, 8, 6))
    add(client, snapshot, CEFTRIAXONE, f"pharmacy:dispense-line:{encounter_id}:1", hanoi(14, 10, 40), quantity=10,
        details={"strength": "1g", "route": "2.15", "registration_number": "VD-23456-15"})
    return close(client, snapshot, hanoi(14, 11, 30))


def build_batch(client, period: str = PERIOD, headers: dict | None = None):
    return client.post("/api/v1/billing/claim-batches", json={"period": period}, headers=headers or FINANCE)


def claim_of(client, encounter_id: str) -> dict:
    response = client.get(f"/api/v1/billing/claims?encounter_id={encounter_id}", headers=FINANCE)
    assert response.status_code == 200, response.get_json()
    [claim] = response.get_json()
    return claim


__all__ = ["BLOOD_COUNT", "CEFTRIAXONE", "GLUCOSE", "HBA1C"]
