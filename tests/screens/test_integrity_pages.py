"""The admin's integrity page over HTTP (fast): each service's integrity alerts in Vietnamese, open ones counted on
its tab, older ones a page at a time by the API's cursor; a check of every chain run from the page; a service that
does not answer is said, not a 500; only the admin opens it."""

import re
from datetime import timedelta

import pytest

from common.integrity import check_and_alert
from common.models import utcnow
from common.queue import app_connection
from seeds import seed_service
from tests.screens.conftest import SCREEN_SETTINGS, csrf_of, sign_in


def page(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, username: str = "admin"):
    client = app.test_client()
    sign_in(client, username)
    return client


def break_a_lab_row(lab_app) -> int:
    """Change a quantity on the lab's stock card behind the service's back; return the row's id."""
    db = lab_app.extensions["database"]
    row_id = db.execute_sql("SELECT MIN(id) FROM ledger_entry").fetchone()[0]
    db.execute_sql(f"UPDATE ledger_entry SET quantity = quantity + 1 WHERE id = {db.param}", (row_id,))
    return row_id


def test_a_broken_lab_chain_is_an_open_alert_on_the_lab_tab_and_a_check_names_the_row(hospital):
    row_id = break_a_lab_row(hospital.lab_app)
    with app_connection(hospital.lab_app):
        check_and_alert()  # what the sweeper does every INTEGRITY_CHECK_SECONDS
    admin = signed_in(hospital.gateway_app)

    home = admin.get("/admin/integrity")
    html = page(home)
    assert home.status_code == 200 and "Toàn vẹn dữ liệu" in html and 'aria-current="page">Toàn vẹn dữ liệu' in html
    assert "Không có cảnh báo toàn vẹn" in html  # the gateway's tab comes first: its chains are whole
    assert re.search(r'data-service="lab"[^>]*>Khoa xét nghiệm <strong class="stop-text">\(1 đang mở\)', html)

    lab = page(admin.get("/admin/integrity?service=lab"))
    alert = re.search(r'<tr data-alert="\d+" data-state="open".*?</tr>', lab, re.S).group(0)
    assert "Đang mở" in alert and "Sổ kho hóa chất (mỗi lô một chuỗi)" in alert and f"<td>{row_id}</td>" in alert
    assert "Nội dung dòng không khớp với mã băm của nó" in alert and "the row's fields" not in alert

    checked = admin.post("/admin/integrity/check?service=lab", data={"csrf_token": csrf_of(admin, "/admin/")})
    report = page(checked)
    assert checked.status_code == 200 and 'data-clean="no"' in report and "Có chuỗi không khớp" in report
    broken = re.search(r'<tr data-break="lab.reagent_lot_ledger:\d+" data-differs="content">.*?</tr>', report, re.S)
    assert broken and f"<td>{row_id}</td>" in broken.group(0) and 'class="hash"' in broken.group(0)
    for chain in ("pharmacy.drug_lot_stock_card", "billing.invoice_ledger", "billing.invoice_payments",
                  "gateway.charges", "gateway.audit"):
        assert f'data-chain="{chain}"' in report
    assert 'aria-current="page">Khoa xét nghiệm' in report  # the chosen tab stays

    english = signed_in(hospital.gateway_app)
    english.set_cookie("lang", "en")
    assert "The row's content is not what its hash was made of" in page(english.get("/admin/integrity?service=lab"))


@pytest.fixture
def gateway_alone(make_app):
    """The gateway with the demo users and no other service running: their alerts cannot be read."""
    app = make_app("gateway", **SCREEN_SETTINGS)
    with app.app_context():
        seed_service("gateway")
    return app


def test_older_alerts_come_a_page_at_a_time_and_a_service_that_does_not_answer_is_said(gateway_alone):
    from gateway.models import IntegrityAlert

    opened = utcnow() - timedelta(days=30)
    with app_connection(gateway_alone):
        IntegrityAlert.insert_many([
            {"chain": "gateway.audit", "stream": "all", "row_id": str(n), "differs": "link", "detail": "…",
             "state": "closed", "opened_at": opened + timedelta(hours=n),
             "closed_at": opened + timedelta(hours=n, minutes=15)}
            for n in range(1, 56)]).execute()
    admin = signed_in(gateway_alone)

    first = page(admin.get("/admin/integrity"))
    assert first.count('data-state="closed"') == 50 and "Đã đóng (chuỗi đã khớp lại)" in first
    assert "Dòng không nối tiếp dòng trước nó" in first and "Nhật ký kiểm toán (một chuỗi)" in first
    older = re.search(r'href="(/admin/integrity\?service=gateway&amp;cursor=[^"]+)" rel="next"', first).group(1)
    second = page(admin.get(older.replace("&amp;", "&")))
    assert second.count('data-state="closed"') == 5 and 'rel="next"' not in second
    assert re.search(r'data-service="pharmacy"[^>]*>Nhà thuốc \(không trả lời\)', first)

    lab = admin.get("/admin/integrity?service=lab")
    assert lab.status_code == 200 and "Dịch vụ này hiện không trả lời" in page(lab)
    checked = page(admin.post("/admin/integrity/check", data={"csrf_token": csrf_of(admin, "/admin/")}))
    assert "Không trả lời (" in checked and 'data-chain="gateway.audit"' in checked


def test_only_the_admin_opens_the_integrity_page_and_a_check_needs_the_csrf_token(gateway_alone):
    assert signed_in(gateway_alone, "finance").get("/admin/integrity").status_code == 403
    assert signed_in(gateway_alone).post("/admin/integrity/check").status_code == 403
