"""A whole visit across real processes, on SQLite with in-process jobs and on PostgreSQL + Redis: register by CCCD,
lab and pharmacy charges, QR payment by a signed bank notification, BHYT claim, a remittance rejecting one line,
reconciliation listing exactly that line. Then charges logged while the gateway is down converge on the record once
it is back, nothing lost or doubled.
"""

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from bench.harness import start_stack
from billing_service.claims.bhyt_xml import parse_giamdinhhs
from billing_service.vietqr import parse_payload
from tests.support import keyed, wait_until

TIMEOUT = 15


class Api:
    """A signed-in user talking HTTP to one base URL."""

    def __init__(self, base: str, username: str, token_base: str | None = None):
        self.base = base
        response = requests.post(f"{token_base or base}/api/v1/auth/token",
                                  json={"username": username, "password": "demo"}, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, **params):
        return requests.get(self.base + path, params=params, headers=self.headers, timeout=TIMEOUT)

    def post(self, path: str, body=None, key: str | None = None, **kwargs):
        headers = keyed({**self.headers, **kwargs.pop("headers", {})}, key)  # a fresh key unless one is given
        return requests.post(self.base + path, json=body, headers=headers, timeout=TIMEOUT, **kwargs)


def ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.text[:800]}"
    return response.json()


@pytest.fixture(scope="module")
def stack(engine, request):
    """The stack on the run's engine: SQLite with in-process jobs (the `make run` default), or PostgreSQL + Redis
    with the rq worker."""
    redis_url = request.getfixturevalue("redis_url") if engine == "postgres" else None
    with start_stack(engine=engine, redis_url=redis_url, workers=1,
                     env_overrides={"OUTBOX_MAX_BACKOFF_SECONDS": "1"}) as running:
        yield running


def register_insured_patient(cashier: Api) -> tuple[dict, dict]:
    # province 079 (Hồ Chí Minh), 1 = a woman born in the 1900s, born '79, then six random digits
    cccd = "079179" + "".join(secrets.choice("0123456789") for _ in range(6))
    patient = ok(cashier.post("/api/v1/patients", {
        "full_name": "Trần Thị Bích Ngọc", "birth_date": "1979-05-14", "sex": "female", "cccd": cccd,
        "phone": "0903123456", "address": "45 Nguyễn Thị Minh Khai, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh"}), 201)
    found = ok(cashier.get("/api/v1/patients", cccd=cccd))
    assert [p["id"] for p in (found if isinstance(found, list) else found["items"])] == [patient["id"]]
    year = datetime.now(UTC).year
    card = ok(cashier.post(f"/api/v1/patients/{patient['id']}/coverages", {
        "card_number": "DN4790" + cccd[-9:], "registered_facility": "79024", "valid_from": f"{year}-01-01",
        "valid_to": f"{year}-12-31", "benefit_level": 80}), 201)
    return patient, card


def stocked_items(lab_head: Api, pharmacist: Api) -> tuple[list[dict], dict]:
    """Two insured lab tests whose reagents are in stock, and an insured drug in stock (from the demo seeds)."""
    tests = [t for t in ok(lab_head.get("/api/v1/lab/tests")) if t.get("insurance_covered")]
    assert len(tests) >= 2, tests
    in_stock = [row["drug_code"] for row in ok(pharmacist.get("/api/v1/pharmacy/stock")) if row["usable"] >= 200]
    drugs = [ok(pharmacist.get(f"/api/v1/pharmacy/drugs/{code}")) for code in in_stock]
    insured = [d for d in drugs if d["insurance_scope"] == 1 and d["insurance_rate"] == 100]
    assert insured, drugs
    return tests[:2], insured[0]


def record(cashier: Api, patient_id: str) -> dict:
    return ok(cashier.get(f"/api/v1/patients/{patient_id}/record"))


def charges_on(cashier: Api, patient_id: str, encounter_id: str) -> list[dict]:
    [visit] = [e for e in record(cashier, patient_id)["encounters"] if str(e["id"]) == str(encounter_id)]
    return visit["charges"]


def invoice_for(cashier: Api, encounter_id: str, line_count: int) -> dict:
    def ready():
        listing = ok(cashier.get("/api/v1/billing/invoices", encounter_id=encounter_id))
        if len(listing) != 1:
            return None
        invoice = ok(cashier.get(f"/api/v1/billing/invoices/{listing[0]['id']}"))
        return invoice if len(invoice["lines"]) == line_count else None

    return wait_until(ready, timeout=30, interval=0.3, message=f"an invoice with {line_count} lines")


def pay_by_bank_transfer(stack, cashier: Api, invoice: dict) -> dict:
    qr = ok(cashier.post(f"/api/v1/billing/invoices/{invoice['id']}/payment-requests", {"method": "vietqr"},
                         key=f"qr-{invoice['id']}"), 201)
    assert qr["amount"] == invoice["balance_amount"] > 0
    png = requests.get(f"{cashier.base}/api/v1/billing/payment-requests/{qr['id']}/qr.png", headers=cashier.headers,
                       timeout=TIMEOUT)
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    account = parse_payload(qr["qr_payload"])["account"]  # what the patient's bank app reads from the QR
    notice = json.dumps({"transaction_id": f"FT{secrets.randbelow(10**12):012d}", "account": account,
                         "amount": qr["amount"],
                         "memo": f"MBVCB.{qr['reference']}.TRAN THI BICH NGOC TT VIEN PHI",
                         "occurred_at": datetime.now(UTC).isoformat()}).encode()
    signature = hmac.new(stack["env"]["BANK_WEBHOOK_SECRET"].encode(), notice, hashlib.sha256).hexdigest()
    response = requests.post(f"{stack['gateway']}/api/v1/billing/webhooks/bank-transfer", data=notice, timeout=TIMEOUT,
                             headers={"X-Signature": f"sha256={signature}", "Content-Type": "application/json"})
    return ok(response)


def test_a_visit_goes_from_reception_to_a_reconciled_claim(stack):
    gateway = stack["gateway"]
    cashier, finance = Api(gateway, "cashier"), Api(gateway, "finance")
    lab_tech, lab_head, pharmacist = Api(gateway, "labtech"), Api(gateway, "labhead"), Api(gateway, "pharmacist")
    patient, card = register_insured_patient(cashier)
    [doctor, *_] = ok(cashier.get("/api/v1/practitioners", department="K01", active="true"))  # from the demo seeds
    visit = ok(cashier.post("/api/v1/encounters", {"patient_id": patient["id"], "kind": "outpatient",
                                                    "department": "K01", "in_network": True,
                                                    "practitioner_id": doctor["id"]}), 201)
    tests, drug = stocked_items(lab_head, pharmacist)

    for number, lab_test in enumerate(tests):
        run = ok(lab_tech.post("/api/v1/lab/test-runs", {"encounter_id": str(visit["id"]),
                                                          "patient_id": str(patient["id"]),
                                                          "test_code": lab_test["code"]}, key=f"run-{number}"), 201)
        assert run["consumption"], run
    quantity = max(1, -(-400_000 // drug["price_amount"]))  # enough for the visit to pass the 15 % rule
    prescription = ok(pharmacist.post("/api/v1/pharmacy/prescriptions", {
        "encounter_id": str(visit["id"]), "patient_id": str(patient["id"]), "prescriber": "BS. Lê Văn Tám",
        "lines": [{"drug_code": drug["code"], "quantity": quantity, "instructions": "Uống sau ăn"}]}), 201)
    ok(pharmacist.post(f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses",
                       {"lines": [{"line_id": prescription["lines"][0]["id"], "quantity": quantity}]},
                       key="dispense-1"), 201)

    charges = wait_until(lambda: len(c := charges_on(cashier, patient["id"], visit["id"])) == 3 and c, timeout=30,
                         message="three charges on the record")
    assert sorted(c["source"] for c in charges) == ["lab", "lab", "pharmacy"]
    invoice = invoice_for(cashier, str(visit["id"]), 3)
    assert invoice["insurer_amount"] + invoice["patient_amount"] == sum(c["amount"] for c in charges)
    assert invoice["insurer_amount"] > 0 and invoice["patient_amount"] > 0

    paid = pay_by_bank_transfer(stack, cashier, invoice)
    assert (paid["status"], paid["invoice_state"], paid["balance_amount"]) == ("matched", "paid", 0)

    ok(cashier.post(f"/api/v1/encounters/{visit['id']}/close", {"diagnosis_main": "E11.9", "diagnosis_other": "I10"}))
    period = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m")
    batch = wait_until(lambda: (r := finance.post("/api/v1/billing/claim-batches", {"period": period})).status_code
                       == 201 and r.json(), timeout=30, interval=0.5, message="a claim batch with the closed visit")
    export = finance.get(f"/api/v1/billing/claim-batches/{batch['id']}/export", format="bhyt-4750")
    assert export.status_code == 200
    [hoso] = [h for h in parse_giamdinhhs(export.content) if h["ma_lk"] == str(visit["id"])]
    lines = hoso["xml2"] + hoso["xml3"]
    assert {line["MA_BAC_SI"] for line in lines} == {doctor["licence_number"]}
    assert len(hoso["xml2"]) == 1 and len(hoso["xml3"]) == 2
    assert hoso["xml1"]["SO_CCCD"] == patient["cccd"] and hoso["xml1"]["MA_THE_BHYT"] == card["card_number"]
    for total, column in (("T_TONGCHI_BV", "THANH_TIEN_BV"), ("T_BHTT", "T_BHTT"), ("T_BNCCT", "T_BNCCT"),
                          ("T_BNTT", "T_BNTT")):
        assert int(hoso["xml1"][total]) == sum(int(line[column]) for line in lines), total
    assert int(hoso["xml1"]["T_BHTT"]) == invoice["insurer_amount"]
    for line in lines:
        assert line["MUC_HUONG"] == "80"
        assert int(line["T_BHTT"]) == (int(line["THANH_TIEN_BH"]) * 80 + 50) // 100

    rejected = hoso["xml3"][0]
    rows = ["ma_lk,table,line_no,approved_amount,rejection_reason,paid_amount,payment_reference,paid_on"]
    for table, line in [("XML2", hoso["xml2"][0]), ("XML3", hoso["xml3"][0]), ("XML3", hoso["xml3"][1])]:
        approved = 0 if line is rejected else int(line["T_BHTT"])
        reason = "Chỉ định không phù hợp chẩn đoán" if line is rejected else ""
        rows.append(f"{visit['id']},{table},{line['STT']},{approved},{reason},{approved},UNC-{period}-01,"
                    f"{datetime.now(UTC).date().isoformat()}")
    imported = finance.post("/api/v1/billing/remittances", data="\n".join(rows).encode(),
                            headers={"Content-Type": "text/csv"})
    assert ok(imported, 201)["accepted_count"] == 3

    report = ok(finance.get("/api/v1/billing/reconciliation", period=period))
    mine = [d for d in report["discrepancies"] if str(d["encounter_id"]) == str(visit["id"])]
    assert [(d["kind"], d["table"], str(d["line_no"])) for d in mine] == [
        ("rejected_by_insurer", "XML3", rejected["STT"])]


def test_charges_logged_while_the_gateway_is_down_converge_on_the_record(stack):
    gateway = stack["gateway"]
    cashier = Api(gateway, "cashier")
    patient, _ = register_insured_patient(cashier)
    visit = ok(cashier.post("/api/v1/encounters", {"patient_id": patient["id"], "kind": "outpatient",
                                                    "department": "K01", "in_network": True}), 201)
    lab_tech = Api(stack["lab_service"], "labtech", token_base=gateway)
    pharmacist = Api(stack["pharmacy_service"], "pharmacist", token_base=gateway)
    lab_head = Api(stack["lab_service"], "labhead", token_base=gateway)
    tests, drug = stocked_items(lab_head, pharmacist)

    stack.stop("gateway")
    try:
        for number, lab_test in enumerate(tests):
            ok(lab_tech.post("/api/v1/lab/test-runs", {"encounter_id": str(visit["id"]),
                                                        "patient_id": str(patient["id"]),
                                                        "test_code": lab_test["code"]}, key=f"down-run-{number}"), 201)
        prescription = ok(pharmacist.post("/api/v1/pharmacy/prescriptions", {
            "encounter_id": str(visit["id"]), "patient_id": str(patient["id"]), "prescriber": "BS. Lê Văn Tám",
            "lines": [{"drug_code": drug["code"], "quantity": 2, "instructions": "Uống sau ăn"}]}), 201)
        ok(pharmacist.post(f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses",
                           {"lines": [{"line_id": prescription["lines"][0]["id"], "quantity": 2}]},
                           key="down-dispense"), 201)
        waiting = ok(lab_head.get("/api/v1/lab/outbox", state="pending"))
        assert len([m for m in waiting if m["event_type"] == "charge.created"]) >= 2
    finally:
        stack.start("gateway")

    charges = wait_until(lambda: len(c := charges_on(cashier, patient["id"], visit["id"])) >= 3 and c, timeout=60,
                         interval=0.5, message="the charges after the gateway came back")
    invoice = invoice_for(cashier, str(visit["id"]), 3)
    assert len(charges) == 3 and len({c["key"] for c in charges}) == 3
    assert sum(line["hospital_amount"] for line in invoice["lines"]) == sum(c["amount"] for c in charges)
