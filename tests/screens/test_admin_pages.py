"""The admin's screens over HTTP (fast): accounts (create, change role, disable, reset password), the forced password
change after an admin set a password, the audit log's filters and pages, and who may open them."""

import re

import pytest

from seeds import seed_service
from tests.screens.conftest import SCREEN_SETTINGS, csrf_of, sign_in


@pytest.fixture
def gateway_app(make_app):
    app = make_app("gateway", **SCREEN_SETTINGS)
    with app.app_context():
        seed_service("gateway")
    return app


@pytest.fixture
def admin(gateway_app):
    client = gateway_app.test_client()
    sign_in(client, "admin")
    return client


def post(client, path: str, **form):
    return client.post(path, data={**form, "csrf_token": csrf_of(client, "/admin/")})


def page(response) -> str:
    return response.get_data(as_text=True)


def user_id(client, username: str) -> str:
    row = re.search(rf'<tr data-username="{username}">.*?/admin/users/(\d+)/role', page(client.get(
        f"/admin/users?q={username}")), re.S)
    return row.group(1)


def temporary_password(response) -> str:
    return re.search(r'id="temporary-password"[^>]*>([^<]+)<', page(response)).group(1)


def test_the_admin_lands_on_the_accounts_in_vietnamese(admin):
    shown = admin.get("/admin/")
    html = page(shown)
    assert shown.status_code == 200 and "Người dùng" in html and "Nhật ký kiểm toán" in html
    for username in ("labtech", "labhead", "pharmacist", "cashier", "finance", "admin"):
        assert f'data-username="{username}"' in html
    assert 'for="new-username"' in html and 'for="q"' in html


def test_the_admin_creates_an_account_and_its_temporary_password_is_shown_once(admin):
    made = post(admin, "/admin/users", username="ttlan", full_name="Trần Thị Lan", role="lab_tech")
    assert made.status_code == 201 and "Trần Thị Lan" in page(made)
    password = temporary_password(made)
    assert len(password) == 12
    assert password not in page(admin.get("/admin/users"))  # only the answer of the creation shows it
    assert "phải đổi mật khẩu" in page(admin.get("/admin/users?q=ttlan"))


def test_a_refused_account_keeps_the_draft_and_says_why(admin):
    post(admin, "/admin/users", username="ttlan", full_name="Trần Thị Lan", role="lab_tech")
    taken = post(admin, "/admin/users", username="ttlan", full_name="Trần Thị Lan", role="lab_tech")
    assert taken.status_code == 409 and "Đã tồn tại người dùng" in page(taken) and 'value="Trần Thị Lan"' in page(taken)
    weak = post(admin, "/admin/users", username="pvminh", full_name="Phạm Văn Minh", role="cashier",
                temporary_password="ngan")
    assert weak.status_code == 422 and "quá yếu" in page(weak)


def test_the_admin_changes_a_role_disables_and_enables_an_account(admin):
    labtech = user_id(admin, "labtech")
    changed = post(admin, f"/admin/users/{labtech}/role", role="lab_head")
    assert changed.status_code == 200 and "labtech" in page(changed) and "Trưởng khoa xét nghiệm" in page(changed)
    disabled = post(admin, f"/admin/users/{labtech}/active", active="false")
    assert disabled.status_code == 200 and "không thể đăng nhập" in page(disabled)
    assert page(admin.get("/admin/users?active=false")).count("<tr data-username=") == 1
    assert post(admin, f"/admin/users/{labtech}/active", active="true").status_code == 200
    assert "<tr data-username=" not in page(admin.get("/admin/users?active=false"))


def test_an_admin_cannot_disable_themself(admin):
    refused = post(admin, f"/admin/users/{user_id(admin, 'admin')}/active", active="false")
    assert refused.status_code == 409 and "quản trị viên khác" in page(refused)


def test_a_reset_password_forces_a_change_at_the_next_sign_in(admin, gateway_app):
    reset = post(admin, f"/admin/users/{user_id(admin, 'cashier')}/password-reset")
    password = temporary_password(reset)
    cashier = gateway_app.test_client()

    signed_in = sign_in(cashier, "cashier", password)

    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/password")
    assert cashier.get("/cashier/").headers["Location"].endswith("/password")  # nothing else opens
    assert cashier.get("/cashier/", headers={"HX-Request": "true"}).headers["HX-Redirect"].endswith("/password")
    form = cashier.get("/password")
    assert form.status_code == 200 and "Quản trị viên đã đặt mật khẩu" in page(form)
    csrf = csrf_of(cashier, "/password")
    differ = cashier.post("/password", data={"current_password": password, "new_password": "Thu-ngan-2026",
                                             "new_password_again": "Thu-ngan-2027", "csrf_token": csrf})
    assert differ.status_code == 422 and "khác nhau" in page(differ)
    wrong = cashier.post("/password", data={"current_password": "sai-mat-khau", "new_password": "Thu-ngan-2026",
                                            "new_password_again": "Thu-ngan-2026", "csrf_token": csrf})
    assert wrong.status_code == 422 and "Mật khẩu hiện tại không đúng" in page(wrong)

    changed = cashier.post("/password", data={"current_password": password, "new_password": "Thu-ngan-2026",
                                              "new_password_again": "Thu-ngan-2026", "csrf_token": csrf})

    assert changed.status_code == 302 and changed.headers["Location"].endswith("/cashier/")
    assert cashier.get("/cashier/").status_code == 200
    assert "phải đổi mật khẩu" not in page(admin.get("/admin/users?q=cashier"))


def test_the_audit_log_filters_by_user_action_status_and_day(admin, gateway_app):
    stranger = gateway_app.test_client()
    sign_in(stranger, "cashier", "wrong-password")
    sign_in(stranger, "cashier")
    shown = admin.get("/admin/audit?actor=cashier&action=auth/token")
    html = page(shown)
    assert shown.status_code == 200 and html.count("POST /api/v1/auth/token") == 2
    refused = page(admin.get("/admin/audit?actor=cashier&status=4xx"))
    assert refused.count("POST /api/v1/auth/token") == 1 and ">401<" in refused
    assert "Không có dòng nào" in page(admin.get("/admin/audit?actor=cashier&from=01/01/2020&to=31/12/2020"))


def test_bad_audit_filters_are_explained_not_failed(admin):
    shown = admin.get("/admin/audit?from=31/02/2026&status=abc")
    assert shown.status_code == 422 and "dd/mm/yyyy" in page(shown) and "4xx" in page(shown)


def test_the_audit_log_pages_to_its_oldest_line(admin, gateway_app):
    other = gateway_app.test_client()
    for _try in range(60):
        other.post("/api/v1/auth/token", json={"username": "finance", "password": "demo"})
    first = page(admin.get("/admin/audit?actor=finance"))
    assert first.count("POST /api/v1/auth/token") == 50
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = page(admin.get(older))
    assert second.count("POST /api/v1/auth/token") == 10 and 'rel="next"' not in second


@pytest.mark.parametrize("username", ["labtech", "cashier", "finance"])
def test_other_roles_may_not_open_the_admin_area(gateway_app, username):
    client = gateway_app.test_client()
    sign_in(client, username)
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/audit").status_code == 403
