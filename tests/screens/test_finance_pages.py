"""The finance office over HTTP (fast): build a batch, see its findings and their sources, override, download the XML
and the FHIR bundle through the session, upload remittances (good and bad), reconcile with a progress bar."""

import io
import re
import uuid

from billing_service.claims.bhyt_xml import parse_giamdinhhs
from gateway.screens import finance
from tests.screens.conftest import csrf_of, sign_in
from tests.screens.finance_office import (
    CLEAN,
    HEADER,
    PERIOD,
    REJECTION,
    REMITTANCE,
    UNSIGNED,
    october,
)
from tests.support import bearer

HTMX = {"HX-Request": "true"}


def signed_in_finance(office):
    """A test client signed in as the finance officer, and its CSRF token."""
    client = office.client()
    sign_in(client, "finance")
    return client, csrf_of(client, "/finance/")


def build(client, csrf: str, period: str = PERIOD, submission: str | None = None):
    return client.post("/finance/batches", data={"period": period, "csrf_token": csrf,
                                                 "submission_id": submission or str(uuid.uuid4())})


def built(client, csrf: str) -> int:
    answer = build(client, csrf)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return int(re.search(r"/finance/batches/(\d+)$", answer.headers["Location"]).group(1))


def upload(client, csrf: str, content: bytes, filename: str, batch_id: int | None = None, **headers):
    form = {"csrf_token": csrf, "submission_id": str(uuid.uuid4()), "file": (io.BytesIO(content), filename)}
    if batch_id:
        form["batch_id"] = str(batch_id)
    return client.post("/finance/remittances", data=form, content_type="multipart/form-data",
                       headers={**HTMX, **headers})


def test_the_finance_home_lists_batches_and_offers_last_month(office):
    client, _csrf = signed_in_finance(office)
    page = client.get("/finance/").get_data(as_text=True)
    assert 'name="period" type="month"' in page and 'for="period"' in page
    assert 'for="remittance-file"' in page and "Chưa có đợt" in page


def test_a_batch_is_built_once_and_shows_its_totals_and_claims(office):
    client, csrf = signed_in_finance(office)
    submission = str(uuid.uuid4())
    first = build(client, csrf, submission=submission)
    again = build(client, csrf, submission=submission)  # a double click: the same batch
    assert first.status_code == again.status_code == 303 and first.headers["Location"] == again.headers["Location"]
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert f'data-claim="{CLEAN}"' in page and "371.500\u00a0₫" in page
    assert 'data-exportable="yes"' in page and "format=bhyt-4750" in page
    home = client.get("/finance/").get_data(as_text=True)
    assert home.count("data-batch=") == 1


def test_nothing_to_claim_and_a_bad_month_are_explained_not_a_500(office):
    client, csrf = signed_in_finance(office)
    empty = client.post("/finance/batches", data={"period": "2026-03", "csrf_token": csrf,
                                                  "submission_id": str(uuid.uuid4())}, headers=HTMX)
    assert empty.status_code == 422 and "không có gì để đề nghị" in empty.get_data(as_text=True)
    bad = build(client, csrf, period="tháng 10")
    assert bad.status_code == 422 and "YYYY-MM" in bad.get_data(as_text=True)
    no_id = client.post("/finance/batches", data={"period": PERIOD, "csrf_token": csrf}, headers=HTMX)
    assert no_id.status_code == 422 and "tải lại trang" in no_id.get_data(as_text=True)


def test_the_xml_and_the_fhir_bundle_download_through_the_session(office):
    client, csrf = signed_in_finance(office)
    batch_id = built(client, csrf)
    xml = client.get(f"/finance/batches/{batch_id}/export?format=bhyt-4750")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert xml.headers["Content-Disposition"].startswith('attachment; filename="GIAMDINHHS_')
    [record] = parse_giamdinhhs(xml.data)
    assert record["ma_lk"] == CLEAN
    fhir = client.get(f"/finance/batches/{batch_id}/export?format=fhir")
    assert fhir.mimetype == "application/fhir+json" and fhir.get_json()["resourceType"] == "Bundle"
    assert client.get(f"/finance/batches/{batch_id}/export?format=pdf").status_code == 400
    assert office.client().get(f"/finance/batches/{batch_id}/export").status_code == 302  # no session: sign in


def test_critical_findings_block_the_download_until_an_audited_override(office):
    october(office.billing_app, unsigned=True)  # (the clean visit again is no change; the unsigned one is new)
    client, csrf = signed_in_finance(office)
    batch_id = built(client, csrf)
    page = client.get(f"/finance/batches/{batch_id}").get_data(as_text=True)
    assert 'data-exportable="no"' in page and 'data-rule="practitioner_missing"' in page
    # what the rule found, in Vietnamese (billing sends it in English with a code and its values)
    assert "Cả dòng và lượt khám đều không ghi bác sĩ chỉ định (MA_BAC_SI)." in page
    assert "Neither the line nor the visit" not in page
    assert 'data-source="lab_test_run"' in page and "/finance/source?url=" in page
    assert "format=bhyt-4750" not in page
    refused = client.get(f"/finance/batches/{batch_id}/export?format=bhyt-4750")
    assert refused.status_code == 409 and "ghi nhận ngoại lệ" in refused.get_data(as_text=True)

    short = client.post(f"/finance/batches/{batch_id}/override", data={
        "reason": "ok", "csrf_token": csrf, "submission_id": str(uuid.uuid4())})
    assert short.status_code == 422
    reason = "BS. Hương đã ký bổ sung chỉ định; giám định viên BHXH đồng ý nhận hồ sơ kèm giải trình"
    done = client.post(f"/finance/batches/{batch_id}/override", data={
        "reason": reason, "csrf_token": csrf, "submission_id": str(uuid.uuid4())})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'data-exportable="override"' in page and reason in page and "format=bhyt-4750" in page
    assert client.get(f"/finance/batches/{batch_id}/export?format=bhyt-4750").status_code == 200


def test_a_remittance_shows_each_bad_row_and_the_line_the_insurer_rejected(office):
    client, csrf = signed_in_finance(office)
    batch_id = built(client, csrf)
    answer = upload(client, csrf, REMITTANCE.encode(), "GIAMDINH_202610.csv", batch_id)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    assert 'data-file-line="4"' in page  # the row naming a line never claimed
    assert f"Không có dòng XML3 số 9 đã đề nghị thanh toán cho MA_LK {CLEAN}." in page and "No claimed" not in page
    assert REJECTION in page and "data-rejected-line=" in page
    claims = office.client().get(f"/api/v1/billing/claims?batch_id={batch_id}", headers=bearer("finance"))
    assert claims.get_json()[0]["status"] == "partially_rejected"
    again = upload(client, csrf, REMITTANCE.encode(), "GIAMDINH_202610.csv", batch_id)
    assert "đã được nhập trước đây" in again.get_data(as_text=True)
    batch_page = client.get(f"/finance/batches/{batch_id}").get_data(as_text=True)
    assert batch_page.count("data-rejected") >= 1 and REJECTION in batch_page


def test_bad_remittance_files_get_a_clear_message_not_a_500(office):
    client, csrf = signed_in_finance(office)
    built(client, csrf)
    cases = [
        (b"", "empty.csv", 422, "trống"),
        (b"\xff\xfe\x00b\x00a\x00d", "utf16.csv", 422, "UTF-8"),
        (b"ma_lk,amount\r\nLK-1,5\r\n", "columns.csv", 422, "ma_lk, table, line_no"),
        (b"%PDF-1.7 binary", "statement.pdf", 415, ".csv"),
        (f"{CLEAN},XML3,1,abc,,,,\r\n".encode().join([b"ma_lk,table,line_no,approved_amount\r\n", b""]),
         "nothing.csv", 422, "data-file-line"),
    ]
    for content, name, status, said in cases:
        answer = upload(client, csrf, content, name)
        assert (answer.status_code, said in answer.get_data(as_text=True)) == (status, True), (name, answer.data)
    too_big = upload(client, csrf, HEADER.encode() + b"\r\n" + b"x" * 1_100_000, "whole_year.csv")
    assert too_big.status_code == 413 and "lớn hơn 1.024 KB" in too_big.get_data(as_text=True)
    no_file = client.post("/finance/remittances", data={"csrf_token": csrf, "submission_id": str(uuid.uuid4())},
                          headers=HTMX)
    assert no_file.status_code == 422 and "Chọn tệp" in no_file.get_data(as_text=True)


def test_a_reconciliation_run_shows_progress_then_every_discrepancy_and_a_chart(office):
    client, csrf = signed_in_finance(office)
    batch_id = built(client, csrf)
    upload(client, csrf, REMITTANCE.encode(), "GIAMDINH_202610.csv", batch_id)
    started = client.post("/finance/reconciliation-runs", data={"period": PERIOD, "csrf_token": csrf}, headers=HTMX)
    assert started.status_code == 200
    run_id = re.search(r'data-run="(\d+)"', started.get_data(as_text=True)).group(1)
    page = client.get(f"/finance/reconciliation-runs/{run_id}", headers=HTMX).get_data(as_text=True)
    assert 'data-state="done"' in page  # jobs run inline in tests; polled until done otherwise
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page and "<rect" in page
    assert 'data-kind="rejected_by_insurer"' in page and 'data-kind="patient_share_unpaid"' in page
    assert f"Lý do của BHXH: {REJECTION}" in page and "Hóa đơn HD000001: phần người bệnh phải trả" in page
    assert "patient share" not in page
    csv = client.get(f"/finance/reconciliation-runs/{run_id}/csv")
    assert csv.mimetype == "text/csv" and b"rejected_by_insurer" in csv.data
    whole = client.get(f"/finance/reconciliation-runs/{run_id}")
    assert whole.status_code == 200 and "<html" in whole.get_data(as_text=True)
    bad = client.post("/finance/reconciliation-runs", data={"period": "10/2026", "csrf_token": csrf}, headers=HTMX)
    assert bad.status_code == 422 and "YYYY-MM" in bad.get_data(as_text=True)


def test_a_source_opens_through_the_session_and_other_urls_do_not(office):
    client, _csrf = signed_in_finance(office)
    assert client.get("/finance/source?url=/api/v1/admin/users").status_code == 404
    assert client.get("/finance/source?url=/api/v1/lab/test-runs/1/../../admin").status_code == 404
    lab_down = client.get("/finance/source?url=/api/v1/lab/test-runs/1")  # the lab is not running here
    assert lab_down.status_code == 503 and "thử lại" in lab_down.get_data(as_text=True)


def test_other_roles_may_not_open_the_finance_office(office):
    client = office.client()
    sign_in(client, "cashier")
    assert client.get("/finance/").status_code == 403


def test_a_running_reconciliation_shows_its_progress_and_asks_again_by_itself(office):
    running = {"id": 7, "period": PERIOD, "state": "running", "progress": 40, "step": "insurer assessment",
               "result": None, "error": None}
    with office.gateway_app.test_request_context("/finance/reconciliation-runs/7", headers=HTMX):
        html, status = finance.run_page(running)
    assert status == 200 and '<progress max="100" value="40"' in html and "40 %" in html
    assert "bước “kết quả giám định của BHXH”" in html
    assert 'hx-get="/finance/reconciliation-runs/7" hx-trigger="load delay:1s"' in html
    with office.gateway_app.test_request_context("/finance/reconciliation-runs/7", headers=HTMX):
        html, _status = finance.run_page({**running, "state": "failed", "error": "OperationalError: timeout"})
    assert "hx-get" not in html and "OperationalError: timeout" in html and "Đối soát 2026-10 thất bại" in html


def test_an_import_is_listed_on_the_home_page_and_opens_with_its_rows(office):
    client, csrf = signed_in_finance(office)
    built(client, csrf)
    upload(client, csrf, REMITTANCE.encode(), "GIAMDINH_202610.csv")
    home = client.get("/finance/").get_data(as_text=True)
    assert 'href="/finance/remittances/1"' in home and "280.000\u00a0₫" in home
    page = client.get("/finance/remittances/1")
    assert page.status_code == 200 and 'data-file-line="4"' in page.get_data(as_text=True)
    assert client.get("/finance/remittances/99").status_code == 404
    assert client.get("/finance/batches/99").status_code == 404
    reconcile = client.get(f"/finance/reconciliation?period={PERIOD}").get_data(as_text=True)
    assert 'id="run-period"' in reconcile and f'value="{PERIOD}"' in reconcile


def test_a_batch_shows_its_claims_a_page_at_a_time(office, monkeypatch):
    monkeypatch.setattr(finance, "CLAIMS_PAGE", 1)
    october(office.billing_app, unsigned=True)
    client, csrf = signed_in_finance(office)
    batch_id = built(client, csrf)
    first = client.get(f"/finance/batches/{batch_id}").get_data(as_text=True)
    assert first.count("data-claim=") == 1 and 'data-page="next"' in first and 'data-page="first"' not in first
    next_page = re.search(r'hx-get="(/finance/batches/\d+/claims\?cursor=[^"]+)"', first).group(1)
    second = client.get(next_page.replace("&amp;", "&"), headers=HTMX).get_data(as_text=True)
    shown = set(re.findall(r'data-claim="([^"]+)"', first + second))
    assert shown == {CLEAN, UNSIGNED} and 'data-page="next"' not in second and 'data-page="first"' in second
