"""Finance checks a claim batch before it goes to BHXH: every rule names its finding, its severity and its source.

Each rule has a story that triggers it and one that does not. A batch with critical findings is not exported until
finance overrides it, and the override is kept with who, why and what it covered.
"""

import csv
import io

from tests.billing.factories import BLOOD_COUNT, CEFTRIAXONE, GLUCOSE, HBA1C, charge, post_charge
from tests.billing.test_claims_support import (
    CARD_2026,
    FINANCE,
    GLUCOSE_RESULT,
    build_batch,
    close,
    hanoi,
    reverse,
    visit,
)
from tests.support import bearer, service_headers

PRICE_LIST = [
    {"code": "23.0075.1494", "item_kind": "service", "name": "Định lượng Glucose [Máu]", "unit_name": "Lần",
     "price_amount": 21_500, "valid_from": "2024-01-01", "decision": "TT 22/2023/TT-BYT"},
    {"code": "22.0120.1370", "item_kind": "service", "name": "Tổng phân tích tế bào máu ngoại vi",
     "unit_name": "Lần", "price_amount": 46_200, "valid_from": "2024-01-01", "decision": "TT 22/2023/TT-BYT"},
    {"code": "40.268", "item_kind": "drug", "name": "Ceftriaxone 1g", "unit_name": "Lọ", "price_amount": 35_000,
     "valid_from": "2026-01-01", "decision": "QĐ 1234/QĐ-SYT kết quả trúng thầu 2026"},
]
FRESH_LOT = [{"lot_id": 7, "lot_number": "J0126A", "expires_on": "2027-06-30", "quantity": 10}]
PERFORMED = {"performed_by": {"id": "5", "full_name": "KTV. Phạm Văn Dũng", "licence_number": "004512/HNO-CCHN"}}


def load_prices(client, prices=PRICE_LIST) -> None:
    response = client.post("/api/v1/billing/insurance-prices", json={"prices": prices}, headers=FINANCE)
    assert response.status_code == 201, response.get_json()


def send(client, snapshot: dict, item, key: str, at, quantity: int = 1, **changes) -> None:
    """One charge on the visit through billing's intake, with changes to the charge (unit, prices, people...)."""
    body = charge(item, key=key, quantity=quantity, encounter_id=snapshot["id"], occurred_at=at,
                  number=int(snapshot["patient"]["id"][2:]))
    body.update(performed_by=PERFORMED["performed_by"] if body["source"] == "lab" else None)
    body["details"] = {**body["details"], **({"lots": FRESH_LOT} if body["source"] == "pharmacy" else {})}
    body.update(changes)
    response = post_charge(client, body, {**snapshot, "status": "open"})
    assert response.status_code in (200, 201), response.get_json()


def clean_visit(client, encounter_id: str = "LK-2026-3001", number: int = 1, **snapshot_changes) -> dict:
    """A visit no rule finds fault with: a doctor, a card, K01, Vietnamese units, list prices, fresh lots."""
    snapshot = {**visit(encounter_id, number), **snapshot_changes}
    send(client, snapshot, GLUCOSE, f"lab:test-run:{encounter_id}:1", hanoi(14, 8, 5), unit="Lần")
    send(client, snapshot, CEFTRIAXONE, f"pharmacy:dispense-line:{encounter_id}:1", hanoi(14, 10, 40), quantity=10)
    return snapshot


def check(client, batch_id: int | None = None) -> dict:
    if batch_id is None:
        batch = build_batch(client)
        assert batch.status_code == 201, batch.get_json()
        batch_id = batch.get_json()["id"]
    response = client.get(f"/api/v1/billing/claim-batches/{batch_id}/check", headers=FINANCE)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def rules(report: dict) -> set[str]:
    return {f["rule"] for f in report["findings"]}


def the(report: dict, rule: str) -> dict:
    [found] = [f for f in report["findings"] if f["rule"] == rule]
    return found


def closed_clean_batch(client, **snapshot_changes) -> dict:
    load_prices(client)
    close(client, clean_visit(client, **snapshot_changes), hanoi(14, 11, 30))
    return check(client)


def test_a_clean_visit_has_no_finding_and_can_be_exported(client):
    report = closed_clean_batch(client)

    assert (report["critical_count"], report["warning_count"], report["exportable"]) == (0, 0, True)
    exported = client.get(f"/api/v1/billing/claim-batches/{report['batch_id']}/export", headers=FINANCE)
    assert exported.status_code == 200


def test_a_line_paid_by_a_card_the_visit_no_longer_shows_is_found(client):
    load_prices(client)
    old_card = {**CARD_2026, "valid_to": "2026-10-20"}
    snapshot = clean_visit(client, coverage=old_card)
    new_card = {**CARD_2026, "card_number": "DN4010123450000", "valid_from": "2026-10-21", "valid_to": "2027-10-20"}

    close(client, {**snapshot, "coverage": new_card}, hanoi(14, 11, 30))

    found = [f for f in check(client)["findings"] if f["rule"] == "card_not_valid_on_service_date"]
    assert [(f["table"], f["severity"]) for f in found] == [("XML2", "critical"), ("XML3", "critical")]
    assert "2026-10-14" in found[0]["message"]
    assert (found[0]["message_code"], found[0]["message_params"]) == ("card_not_valid_on_day", {  # said by a screen
        "card_number": "DN4010123450000", "starts_on": "2026-10-21", "ends_on": "2027-10-20",
        "service_on": "2026-10-14"})


def test_a_card_valid_on_the_service_date_passes(client):
    assert "card_not_valid_on_service_date" not in rules(closed_clean_batch(client))


def test_a_line_no_practitioner_ordered_is_found(client):
    report = closed_clean_batch(client, practitioner=None)

    found = [f for f in report["findings"] if f["rule"] == "practitioner_missing"]
    assert len(found) == 2 and {f["severity"] for f in found} == {"critical"}


def test_a_line_that_names_who_ordered_it_needs_no_visit_doctor(client):
    load_prices(client)
    snapshot = {**visit("LK-2026-3001", 1), "practitioner": None}
    orderer = {"id": "4", "full_name": "ThS.BS Lê Minh Khoa", "licence_number": "000875/BYT-CCHN"}
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:1", hanoi(14, 8, 5), unit="Lần", ordered_by=orderer)
    close(client, snapshot, hanoi(14, 11, 30))

    assert "practitioner_missing" not in rules(check(client))


def test_a_lab_test_nobody_is_recorded_to_have_run_is_a_warning(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:1", hanoi(14, 8, 5), unit="Lần", performed_by=None)
    close(client, snapshot, hanoi(14, 11, 30))

    assert the(check(client), "performer_missing")["severity"] == "warning"


def test_a_lab_test_with_its_technician_passes_the_performer_rule(client):
    assert "performer_missing" not in rules(closed_clean_batch(client))


def test_a_price_above_the_insurance_list_is_found(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, ("23.0075.1494", "Định lượng Glucose [Máu]", 25_000, {}), "lab:test-run:3001:1",
         hanoi(14, 8, 5), unit="Lần")
    close(client, snapshot, hanoi(14, 11, 30))

    found = the(check(client), "price_above_insurance_list")
    assert found["severity"] == "critical" and "21500" in found["message"]
    assert (found["message_code"], found["message_params"]) == ("price_above_list", {
        "price_amount": 25_000, "list_price_amount": 21_500, "code": "23.0075.1494"})


def test_a_price_at_the_insurance_list_passes(client):
    assert "price_above_insurance_list" not in rules(closed_clean_batch(client))


def test_a_service_missing_from_the_insurance_list_billed_to_bhyt_is_found(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, HBA1C, "lab:test-run:3001:1", hanoi(14, 8, 5), unit="Lần")
    close(client, snapshot, hanoi(14, 11, 30))

    found = the(check(client), "out_of_scope_billed_to_insurer")
    assert found["code"] == "23.0083.1523" and found["severity"] == "critical"


def test_an_item_outside_the_list_billed_to_the_patient_passes(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, BLOOD_COUNT, "lab:test-run:3001:1", hanoi(14, 8, 5), unit="Lần")
    send(client, snapshot, ("TPCN.0412", "Glucosamin 500mg", 2_300, {}), "pharmacy:dispense-line:3001:1",
         hanoi(14, 9), quantity=30, unit="Viên", item_kind="drug", insurance_covered=False, insurance_rate=0)
    close(client, snapshot, hanoi(14, 11, 30))

    assert "out_of_scope_billed_to_insurer" not in rules(check(client))


def test_a_service_dated_before_the_visit_opened_is_found(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)  # opened 14/10 07:30
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:1", hanoi(14, 7, 10), unit="Lần")
    close(client, snapshot, hanoi(14, 11, 30))

    assert the(check(client), "service_date_outside_visit")["severity"] == "critical"


def test_a_service_in_the_minute_the_visit_opened_passes(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:1", hanoi(14, 7, 30), unit="Lần")
    close(client, snapshot, hanoi(14, 11, 30))

    assert "service_date_outside_visit" not in rules(check(client))


def test_a_line_whose_money_does_not_add_up_is_found_and_cannot_be_overridden(client):
    from billing_service.claims.models import ClaimLine

    load_prices(client)
    close(client, clean_visit(client), hanoi(14, 11, 30))
    batch = build_batch(client).get_json()
    with client.application.app_context():  # a row damaged behind the application's back
        ClaimLine.update(insurer_amount=ClaimLine.insurer_amount + 1_000).where(ClaimLine.xml_table == "XML3").execute()

    report = check(client, batch["id"])
    override = client.post(f"/api/v1/billing/claim-batches/{batch['id']}/override",
                           json={"reason": "Gửi trước, điều chỉnh sau theo giám định"}, headers=FINANCE)

    found = the(report, "totals_do_not_add_up")
    assert (found["severity"], found["overridable"], report["overridable"]) == ("critical", False, False)
    assert override.status_code == 409 and override.get_json()["code"] == "FINDINGS_CANNOT_BE_OVERRIDDEN"


def test_lines_whose_money_adds_up_pass_the_totals_rule(client):
    assert "totals_do_not_add_up" not in rules(closed_clean_batch(client))


def test_a_charge_reversed_after_the_batch_was_built_is_found(client):
    load_prices(client)
    close(client, clean_visit(client), hanoi(14, 11, 30))
    batch = build_batch(client).get_json()

    reverse(client, "lab:test-run:LK-2026-3001:1", 1, 21_500, "LK-2026-3001")

    report = check(client, batch["id"])
    found = {f["table"]: f for f in report["findings"] if f["rule"] == "charge_changed_since_claimed"}
    assert "reversed" in found["XML3"]["message"]
    assert "BHYT" in found["XML2"]["message"]  # the drug's split moved too: the visit fell under the 15 % threshold


def test_a_charge_reversed_before_the_batch_is_simply_not_claimed(client):
    load_prices(client)
    snapshot = clean_visit(client)
    reverse(client, "lab:test-run:LK-2026-3001:1", 1, 21_500, "LK-2026-3001")
    close(client, snapshot, hanoi(14, 11, 30))

    assert "charge_changed_since_claimed" not in rules(check(client))


def test_a_unit_written_in_english_is_a_warning(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, CEFTRIAXONE, "pharmacy:dispense-line:3001:1", hanoi(14, 10), quantity=10, unit="vial")
    close(client, snapshot, hanoi(14, 11, 30))

    found = the(check(client), "unit_not_in_national_list")
    assert found["severity"] == "warning" and "vial" in found["message"]


def test_units_as_the_national_list_writes_them_pass(client):
    assert "unit_not_in_national_list" not in rules(closed_clean_batch(client))


def test_a_drug_dispensed_from_an_expired_lot_is_found_with_that_lot(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    expired = [{"lot_id": 9, "lot_number": "J0125X", "expires_on": "2026-10-01", "quantity": 10}]
    send(client, snapshot, CEFTRIAXONE, "pharmacy:dispense-line:3001:1", hanoi(14, 10), quantity=10, unit="Lọ",
         details={"lots": expired})
    close(client, snapshot, hanoi(14, 11, 30))

    found = the(check(client), "lot_expired_when_dispensed")
    assert "J0125X" in found["message"]
    assert found["source"]["drug_lots"][0]["url"] == "/api/v1/pharmacy/lots/9"


def test_a_drug_from_a_lot_within_its_date_passes(client):
    assert "lot_expired_when_dispensed" not in rules(closed_clean_batch(client))


def test_a_visit_whose_department_has_no_code_is_a_warning(client):
    report = closed_clean_batch(client, department="Phòng khám Nội")

    assert {f["severity"] for f in report["findings"] if f["rule"] == "department_missing"} == {"warning"}


def test_a_visit_with_its_department_code_passes(client):
    assert "department_missing" not in rules(closed_clean_batch(client))


def test_the_same_test_twice_in_one_minute_is_a_warning_on_the_second(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:1", hanoi(14, 8, 5), unit="Lần")
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:2", hanoi(14, 8, 5), unit="Lần")
    close(client, snapshot, hanoi(14, 11, 30))

    found = the(check(client), "duplicate_line")
    assert (found["severity"], found["line_no"], found["source"]["id"]) == ("warning", 2, "2")


def test_the_same_test_repeated_later_in_the_day_passes(client):
    load_prices(client)
    snapshot = visit("LK-2026-3001", 1)
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:1", hanoi(14, 8, 5), unit="Lần")
    send(client, snapshot, GLUCOSE, "lab:test-run:3001:2", hanoi(14, 10, 5), unit="Lần")
    close(client, snapshot, hanoi(14, 11, 30))

    assert "duplicate_line" not in rules(check(client))


def test_a_visit_closed_without_an_icd10_diagnosis_is_found(client):
    load_prices(client)
    snapshot = clean_visit(client)
    closed = {**snapshot, "status": "closed", "diagnosis_main": None, "discharged_at": hanoi(14, 11, 30).isoformat()}
    client.post("/internal/encounters", json=closed, headers=service_headers("gateway"))

    found = the(check(client), "diagnosis_missing")
    assert (found["severity"], found["ma_lk"], found["table"]) == ("critical", "LK-2026-3001", None)


def test_a_visit_with_its_icd10_diagnosis_passes(client):
    assert "diagnosis_missing" not in rules(closed_clean_batch(client))


def test_without_a_price_list_prices_are_not_checked_and_finance_is_told(client):
    close(client, clean_visit(client), hanoi(14, 11, 30))

    report = check(client)

    assert the(report, "price_list_missing")["severity"] == "warning"
    assert report["exportable"] is True


def test_with_the_price_list_loaded_finance_is_not_told_it_is_missing(client):
    assert "price_list_missing" not in rules(closed_clean_batch(client))


# --- sources, the export gate and the override ------------------------------------------------------------------

def test_a_finding_on_a_lab_line_links_to_the_test_run_and_the_reagent_lots_it_used(client):
    snapshot = {**visit("LK-2026-3001", 1), "practitioner": None}
    lots = [{"reagent_code": "GLU-R1", "lot_number": "GL2609B", "quantity": 220}]
    send(client, snapshot, GLUCOSE, "lab:test-run:42", hanoi(14, 8, 5), unit="Lần",
         details={"results": [GLUCOSE_RESULT], "reagent_lots": lots})
    close(client, snapshot, hanoi(14, 11, 30))

    source = the(check(client), "practitioner_missing")["source"]

    assert (source["kind"], source["id"], source["url"]) == ("lab_test_run", "42", "/api/v1/lab/test-runs/42")
    assert source["reagent_lots"] == [{"reagent_code": "GLU-R1", "lot_number": "GL2609B", "quantity": 220,
                                       "url": "/api/v1/lab/reagents/GLU-R1"}]


def test_a_finding_on_a_drug_line_links_to_the_dispense_line_and_its_lot(client):
    report = closed_clean_batch(client, practitioner=None)

    [source] = [f["source"] for f in report["findings"] if f["rule"] == "practitioner_missing" and f["table"] == "XML2"]

    assert (source["kind"], source["url"]) == ("dispense_line", "/api/v1/pharmacy/dispense-lines/1")
    assert source["drug_lots"][0]["lot_number"] == "J0126A"


def test_a_batch_with_critical_findings_is_not_exported(client):
    report = closed_clean_batch(client, practitioner=None)

    for export_format in ("bhyt-4750", "fhir"):
        response = client.get(f"/api/v1/billing/claim-batches/{report['batch_id']}/export?format={export_format}",
                              headers=FINANCE)
        assert response.status_code == 409
        assert (response.get_json()["code"], response.get_json()["critical_count"]) == (
            "CLAIM_BATCH_HAS_CRITICAL_FINDINGS", 2)


def test_finance_overrides_the_findings_on_record_and_the_batch_is_exported(client):
    report = closed_clean_batch(client, practitioner=None)
    batch_id = report["batch_id"]

    override = client.post(f"/api/v1/billing/claim-batches/{batch_id}/override", json={
        "reason": "BS. Hương đã ký bổ sung phiếu chỉ định; BHXH tỉnh đồng ý tiếp nhận kèm giải trình"},
        headers=FINANCE)

    assert override.status_code == 201
    kept = override.get_json()
    assert (kept["created_by"], kept["critical_count"]) == ("finance", 2)
    assert {f["rule"] for f in kept["findings"]} == {"practitioner_missing"}
    after = check(client, batch_id)
    assert (after["exportable"], after["override"]["id"]) == (True, kept["id"])
    assert client.get(f"/api/v1/billing/claim-batches/{batch_id}/export", headers=FINANCE).status_code == 200


def test_a_new_critical_finding_after_the_override_blocks_the_export_again(client):
    report = closed_clean_batch(client, practitioner=None)
    batch_id = report["batch_id"]
    client.post(f"/api/v1/billing/claim-batches/{batch_id}/override",
                json={"reason": "Bổ sung chỉ định sau, đã báo giám định viên"}, headers=FINANCE)

    reverse(client, "lab:test-run:LK-2026-3001:1", 1, 21_500, "LK-2026-3001")

    assert client.get(f"/api/v1/billing/claim-batches/{batch_id}/export", headers=FINANCE).status_code == 409


def test_there_is_nothing_to_override_in_a_clean_batch(client):
    report = closed_clean_batch(client)

    response = client.post(f"/api/v1/billing/claim-batches/{report['batch_id']}/override",
                           json={"reason": "Không có lỗi nhưng vẫn ghi đè"}, headers=FINANCE)

    assert response.status_code == 409 and response.get_json()["code"] == "NOTHING_TO_OVERRIDE"


def test_only_finance_can_override_a_batch(client):
    report = closed_clean_batch(client, practitioner=None)

    response = client.post(f"/api/v1/billing/claim-batches/{report['batch_id']}/override",
                           json={"reason": "Thu ngân muốn gửi hồ sơ"}, headers=bearer("cashier"))

    assert response.status_code == 403


def test_the_findings_come_as_csv_with_their_sources(client):
    report = closed_clean_batch(client, practitioner=None)

    response = client.get(f"/api/v1/billing/claim-batches/{report['batch_id']}/check?format=csv", headers=FINANCE)

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {(row["rule"], row["source_url"]) for row in rows} == {
        ("practitioner_missing", "/api/v1/lab/test-runs/1"),
        ("practitioner_missing", "/api/v1/pharmacy/dispense-lines/1")}


def test_a_line_the_insurer_rejects_links_to_the_same_source_on_the_claim_and_in_reconciliation(client):
    from tests.billing.test_claims_support import claim_of

    report = closed_clean_batch(client)
    assert report["exportable"]
    rows = ("ma_lk,table,line_no,approved_amount,rejection_reason,paid_amount,payment_reference,paid_on\r\n"
            "LK-2026-3001,XML3,1,0,Chỉ định không phù hợp chẩn đoán,0,,\r\n")
    imported = client.post("/api/v1/billing/remittances", data=rows.encode(), headers={**FINANCE,
                                                                                        "Content-Type": "text/csv"})
    assert imported.status_code == 201, imported.get_json()

    [line] = [line for line in claim_of(client, "LK-2026-3001")["lines"] if line["table"] == "XML3"]
    reconciliation = client.get("/api/v1/billing/reconciliation?period=2026-10", headers=FINANCE).get_json()
    [rejected] = [d for d in reconciliation["discrepancies"] if d["kind"] == "rejected_by_insurer"]

    assert line["source"]["url"] == rejected["source"]["url"] == "/api/v1/lab/test-runs/1"
    assert rejected["source"]["kind"] == "lab_test_run"
