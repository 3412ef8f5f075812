"""Finance imports what BHXH approved and paid for October's claims, as CSV or JSON lines."""

import json

import pytest

from tests.billing.test_claims_support import FINANCE, an_october_visit, build_batch, claim_of
from tests.support import bearer

HEADER = "ma_lk,table,line_no,approved_amount,rejection_reason,paid_amount,payment_reference,paid_on"
ASSESSMENT = "\r\n".join([
    HEADER,
    "LK-2026-1001,XML2,1,280000,,280000,BHXH-HN-2026-11-0042,2026-11-28",
    'LK-2026-1001,XML3,1,0,"Chỉ định xét nghiệm không phù hợp chẩn đoán, xuất toán",0,,',
    "LK-2026-1001,XML3,2,80800,,60000,BHXH-HN-2026-11-0042,20261128",
]) + "\r\n"


@pytest.fixture
def claimed(client):
    """October's batch with one visit: ceftriaxone (XML2 #1), glucose (XML3 #1), HbA1c (XML3 #2)."""
    an_october_visit(client)
    return build_batch(client).get_json()


def send(client, body: str | bytes, content_type: str = "text/csv", headers: dict | None = None):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post("/api/v1/billing/remittances", data=data, content_type=content_type,
                       headers=headers or FINANCE)


def test_importing_the_assessment_records_approvals_rejections_and_payments(client, claimed):
    response = send(client, ASSESSMENT)

    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert (report["format"], report["row_count"], report["accepted_count"], report["rejected_count"]) == (
        "csv", 3, 3, 0)
    assert (report["approved_amount"], report["paid_amount"], report["already_imported"]) == (360_800, 340_000, False)
    claim = claim_of(client, "LK-2026-1001")
    assert (claim["status"], claim["rejected_line_count"]) == ("partially_rejected", 1)
    assert (claim["approved_amount"], claim["paid_amount"]) == (360_800, 340_000)
    glucose = next(line for line in claim["lines"] if line["code"] == "23.0075.1494")
    assert (glucose["approved_amount"], glucose["rejection_reason"]) == (
        0, "Chỉ định xét nghiệm không phù hợp chẩn đoán, xuất toán")


def test_importing_the_same_file_twice_changes_nothing(client, claimed):
    first = send(client, ASSESSMENT).get_json()

    again = send(client, ASSESSMENT)

    assert again.status_code == 200
    assert (again.get_json()["id"], again.get_json()["already_imported"]) == (first["id"], True)
    assert claim_of(client, "LK-2026-1001")["paid_amount"] == 340_000
    assert len(client.get("/api/v1/billing/remittances", headers=FINANCE).get_json()) == 1


def test_rows_already_imported_in_another_file_are_counted_as_duplicates(client, claimed):
    send(client, ASSESSMENT)
    payment = "LK-2026-1001,XML3,2,80800,,20800,BHXH-HN-2026-12-0007,2026-12-05"

    response = send(client, ASSESSMENT.replace(HEADER, HEADER + "\r\n" + payment))

    report = response.get_json()
    assert response.status_code == 201
    assert (report["accepted_count"], report["duplicate_count"], report["rejected_count"]) == (1, 3, 0)
    claim = claim_of(client, "LK-2026-1001")
    assert claim["paid_amount"] == 360_800  # the second payment of HbA1c completes it


def test_bad_rows_are_reported_with_their_line_numbers_and_the_good_ones_kept(client, claimed):
    rows = "\r\n".join([
        HEADER,
        "LK-2026-1001,XML2,1,280000,,280000,BHXH-HN-2026-11-0042,2026-11-28",  # line 2: good
        "LK-2026-9999,XML3,1,17200,,0,,",  # 3: no such visit claimed
        "LK-2026-1001,XML5,1,17200,,0,,",  # 4: no such table
        "LK-2026-1001,XML3,1,17200.5,,0,,",  # 5: not whole đồng
        "LK-2026-1001,XML3,2,80800,,80800,,2026-11-28",  # 6: paid without a payment reference
        "LK-2026-1001,XML3,7,17200,,0,,",  # 7: no 7th service line
        "LK-2026-1001,XML3,2,80800,,90000,BHXH-HN-2026-11-0042,2026-11-28",  # 8: paid more than approved
        ",,,,,,,",  # 9: blank, skipped
        "LK-2026-1001,XML3,1,17200,,17200,BHXH-HN-2026-11-0042,2026-11-31",  # 10: no 31 November
    ]) + "\r\n"

    response = send(client, rows)

    assert response.status_code == 201
    report = response.get_json()
    assert (report["row_count"], report["accepted_count"], report["rejected_count"]) == (8, 1, 7)
    reasons = {row["line"]: row["reason"] for row in report["rejected"]}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 10]
    assert reasons[3] == "No claimed XML3 line 1 for MA_LK LK-2026-9999."
    assert reasons[4].startswith("table: ")
    assert reasons[5].startswith("approved_amount: ")
    assert reasons[6].startswith("payment_reference: ")
    assert reasons[7] == "No claimed XML3 line 7 for MA_LK LK-2026-1001."
    assert reasons[8].startswith("paid_amount: ")
    assert reasons[10].startswith("paid_on: ")
    codes = {row["line"]: (row["reason_code"], row["reason_params"]) for row in report["rejected"]}
    assert codes[3] == ("no_claimed_line", {"table": "XML3", "line_no": 1, "ma_lk": "LK-2026-9999"})
    assert codes[5] == ("invalid_columns", {"columns": ["approved_amount"]})
    assert codes[10] == ("invalid_columns", {"columns": ["paid_on"]})
    assert client.get(f"/api/v1/billing/remittances/{report['id']}", headers=FINANCE).get_json()["rejected"] == \
        report["rejected"]


def test_a_file_with_no_usable_row_is_refused_and_nothing_is_kept(client, claimed):
    response = send(client, HEADER + "\r\nLK-2026-9999,XML3,1,17200,,0,,\r\nLK-2026-1001,XML9,1,0,,0,,\r\n")

    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "REMITTANCE_REJECTED"
    assert [row["line"] for row in problem["rejected"]] == [2, 3]
    assert client.get("/api/v1/billing/remittances", headers=FINANCE).get_json() == []


def test_a_changed_answer_under_the_same_payment_reference_is_refused(client, claimed):
    send(client, ASSESSMENT)

    response = send(client, HEADER + "\r\nLK-2026-1001,XML3,2,80800,,70000,BHXH-HN-2026-11-0042,2026-11-28\r\n")

    assert response.status_code == 422
    [row] = response.get_json()["rejected"]
    assert row["line"] == 2 and "payment reference 'BHXH-HN-2026-11-0042'" in row["reason"]
    assert (row["reason_code"], row["reason_params"]) == ("payment_reference_conflict",
                                                          {"payment_reference": "BHXH-HN-2026-11-0042"})


def test_json_lines_are_imported_and_fractional_money_refused(client, claimed):
    lines = [
        {"ma_lk": "LK-2026-1001", "table": "XML2", "line_no": 1, "approved_amount": 280000,
         "paid_amount": 280000, "payment_reference": "BHXH-HN-2026-11-0042", "paid_on": "2026-11-28"},
        {"ma_lk": "LK-2026-1001", "table": "xml3", "line_no": 2, "approved_amount": 80800.0},
        ["not", "an", "object"],
    ]
    body = "\n".join(json.dumps(line) for line in lines) + "\n{broken\n"

    response = send(client, body, "application/x-ndjson")

    assert response.status_code == 201
    report = response.get_json()
    assert (report["format"], report["accepted_count"], report["rejected_count"]) == ("ndjson", 1, 3)
    assert {row["line"]: row["reason"] for row in report["rejected"]} == {
        2: "approved_amount: Must be a whole number of đồng.", 3: "Not a JSON object.", 4: "Not valid JSON."}
    assert [row["reason_code"] for row in report["rejected"]] == ["invalid_columns", "not_json_object", "not_json"]


def test_a_csv_without_the_required_columns_is_refused(client, claimed):
    response = send(client, "ma_lk,line_no,approved_amount\r\nLK-2026-1001,1,280000\r\n")

    assert response.status_code == 422
    assert response.get_json()["code"] == "REMITTANCE_COLUMNS_MISSING"
    assert response.get_json()["errors"] == {"columns": ["Missing column table."]}


def test_a_csv_saved_by_a_spreadsheet_with_a_byte_order_mark_is_read(client, claimed):
    response = send(client, "\ufeff" + ASSESSMENT)

    assert response.status_code == 201
    assert response.get_json()["accepted_count"] == 3


@pytest.mark.parametrize("content_type, body, status, code", [
    ("application/json", "{}", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("text/csv", b"\xff\xfe\x00bad", 422, "REMITTANCE_NOT_UTF8"),
    ("text/csv", HEADER + "\r\n", 422, "REMITTANCE_EMPTY"),
])
def test_files_that_cannot_be_read_are_refused_with_a_reason(client, claimed, content_type, body, status, code):
    response = send(client, body, content_type)

    assert (response.status_code, response.get_json()["code"]) == (status, code)


def test_only_finance_imports_remittances(client, claimed):
    assert send(client, ASSESSMENT, headers=bearer("cashier")).status_code == 403
    assert client.get("/api/v1/billing/remittances/1", headers=FINANCE).get_json()["code"] == "REMITTANCE_NOT_FOUND"


def test_an_appeal_approved_later_replaces_the_rejection_and_pays_the_line(client, claimed):
    send(client, ASSESSMENT)
    appeal = "LK-2026-1001,XML3,1,17200,,17200,BHXH-HN-2026-12-0113,2026-12-20"

    response = send(client, f"{HEADER}\r\n{appeal}\r\n")

    assert response.status_code == 201
    glucose = next(line for line in claim_of(client, "LK-2026-1001")["lines"] if line["code"] == "23.0075.1494")
    assert (glucose["approved_amount"], glucose["rejection_reason"], glucose["paid_amount"]) == (17_200, None, 17_200)
    assert claim_of(client, "LK-2026-1001")["rejected_line_count"] == 0
