"""Sessions of people at the screens: sign-in first, a signed cookie, CSRF on every form, roles, idle timeout."""

import pytest

from gateway.screens import session as screen_session
from tests.screens.conftest import csrf_of, sign_in
from tests.support import bearer


def test_the_sign_in_page_comes_first_and_speaks_vietnamese(hospital):
    client = hospital.client()
    first = client.get("/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/sign-in")
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page and "Tên đăng nhập" in page


def test_a_technician_signs_in_with_a_signed_http_only_cookie_and_lands_on_the_bench(hospital):
    client = hospital.client()
    signed_in = sign_in(client, "labtech")
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/bench/"
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "hospital_session=" in cookie
    bench = client.get("/bench/")
    assert bench.status_code == 200 and "Nguyễn Văn An" in bench.get_data(as_text=True)


def test_a_wrong_password_is_refused_in_vietnamese_and_nobody_is_signed_in(hospital):
    client = hospital.client()
    refused = sign_in(client, "labtech", "not-the-password")
    assert refused.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in refused.get_data(as_text=True)
    assert client.get("/bench/").status_code == 302


def test_sign_in_is_the_api_token_check_and_is_audited(hospital):
    client = hospital.client()
    sign_in(client, "labtech", "wrong")
    sign_in(client, "labtech")
    audit = hospital.client().get("/api/v1/audit?actor=labtech", headers=bearer("admin")).get_json()
    assert [(a["action"], a["status_code"]) for a in audit][:2] == [
        ("POST /api/v1/auth/token", 200), ("POST /api/v1/auth/token", 401)]


def test_every_role_lands_on_its_own_home_page(hospital):
    homes = {"labtech": ("/bench/", "Kỹ thuật viên xét nghiệm"), "labhead": ("/lab/", "Trưởng khoa xét nghiệm"),
             "pharmacist": ("/pharmacy/", "Dược sĩ"), "cashier": ("/cashier/", "Thu ngân"),
             "finance": ("/finance/", "Kế toán"), "admin": ("/admin/", "Quản trị viên")}
    for username, (home, role_name) in homes.items():
        client = hospital.client()
        assert sign_in(client, username).headers["Location"] == home
        page = client.get(home)
        assert page.status_code == 200 and role_name in page.get_data(as_text=True), username


def test_a_role_opening_another_roles_page_gets_a_403_page(hospital):
    technician, cashier, admin = hospital.client(), hospital.client(), hospital.client()
    sign_in(technician, "labtech")
    sign_in(cashier, "cashier")
    sign_in(admin, "admin")
    refused = technician.get("/cashier/")
    assert refused.status_code == 403 and "text/html" in refused.headers["Content-Type"]
    assert "thuộc về vai trò khác" in refused.get_data(as_text=True)
    assert cashier.get("/bench/").status_code == 403
    assert cashier.get("/bench/banner").status_code == 403
    assert admin.get("/bench/").status_code == 200  # admin may do everything, as in the API


def test_a_forged_form_without_the_csrf_token_is_refused_and_changes_nothing(hospital):
    client = hospital.client()
    sign_in(client, "labtech")
    forged = client.post("/bench/runs", data={"visit": "1", "test": "GLU",
                                              "submission_id": "0b5c8a8e-6f1a-4c55-9a57-3f8f4c1d2e10"})
    assert forged.status_code == 403 and "không đến từ trang này" in forged.get_data(as_text=True)
    wrong = client.post("/bench/runs", data={"visit": "1", "test": "GLU", "csrf_token": "guessed",
                                             "submission_id": "0b5c8a8e-6f1a-4c55-9a57-3f8f4c1d2e10"})
    assert wrong.status_code == 403
    assert client.post("/sign-out").status_code == 403
    runs = hospital.client().get("/api/v1/lab/test-runs", headers=bearer("lab_tech")).get_json()
    assert runs == [] and client.get("/bench/").status_code == 200


def test_a_sign_in_form_from_another_site_is_refused(hospital):
    client = hospital.client()
    forged = client.post("/sign-in", data={"username": "labtech", "password": "demo"})
    assert forged.status_code == 403 and client.get("/bench/").status_code == 302


def test_sign_out_ends_the_session(hospital):
    client = hospital.client()
    sign_in(client, "labtech")
    signed_out = client.post("/sign-out", data={"csrf_token": csrf_of(client, "/bench/")})
    assert signed_out.status_code == 302 and "reason=signed_out" in signed_out.headers["Location"]
    assert client.get("/bench/").headers["Location"].startswith("/sign-in")


@pytest.fixture
def minutes_later(monkeypatch):
    """Move the sessions' clock to a number of minutes after the test started."""
    started = screen_session.now()

    def move(minutes: int) -> None:
        monkeypatch.setattr(screen_session, "now", lambda: started + minutes * 60)

    move(0)
    return move


def test_an_idle_session_is_signed_out_and_polling_does_not_keep_it_alive(hospital, minutes_later):
    client = hospital.client()
    sign_in(client, "labtech")
    minutes_later(20)
    assert client.get("/bench/banner").status_code == 200  # the banner polls by itself: not a user action
    minutes_later(31)
    idle = client.get("/bench/")
    assert idle.status_code == 302 and "reason=idle" in idle.headers["Location"]
    notice = client.get(idle.headers["Location"]).get_data(as_text=True)
    assert "đăng xuất sau một thời gian không thao tác" in notice
    assert client.get("/bench/").status_code == 302  # the session is gone, not only refused once


def test_a_user_action_keeps_the_session_alive(hospital, minutes_later):
    client = hospital.client()
    sign_in(client, "labtech")
    minutes_later(20)
    assert client.get("/bench/").status_code == 200
    minutes_later(40)
    assert client.get("/bench/").status_code == 200


def test_an_active_session_ends_with_its_api_token(hospital, minutes_later):
    client = hospital.client()
    sign_in(client, "labtech")  # the token lives JWT_TTL_SECONDS, an hour
    for minutes in (25, 50):
        minutes_later(minutes)
        assert client.get("/bench/").status_code == 200
    minutes_later(61)
    ended = client.get("/bench/")
    assert ended.status_code == 302 and "reason=expired" in ended.headers["Location"]


def test_a_signed_out_htmx_request_is_sent_to_the_sign_in_page(hospital):
    polled = hospital.client().get("/bench/banner", headers={"HX-Request": "true"})
    assert polled.status_code == 401 and polled.headers["HX-Redirect"].startswith("/sign-in")


def test_the_json_api_keeps_its_bearer_tokens_and_ignores_the_session_cookie(hospital):
    client = hospital.client()
    sign_in(client, "labtech")
    assert client.get("/api/v1/lab/worklist").status_code == 401
    assert client.get("/api/v1/lab/worklist", headers=bearer("lab_tech")).status_code == 200


def test_the_language_switches_to_english_and_back_and_is_remembered(hospital):
    client = hospital.client()
    switched = client.get("/language/en?next=/sign-in")
    assert switched.status_code == 302 and switched.headers["Location"] == "/sign-in"
    assert "lang=en" in switched.headers["Set-Cookie"]
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in page and "Username" in page
    client.get("/language/vi")
    assert "Tên đăng nhập" in client.get("/sign-in").get_data(as_text=True)


def test_a_return_address_off_the_site_is_not_followed(hospital):
    client = hospital.client()
    assert client.get("/language/en?next=//elsewhere.example/").headers["Location"] == "/"
    response = client.post("/sign-in", data={"username": "labtech", "password": "demo", "next": "//elsewhere.example",
                                             "csrf_token": csrf_of(client)})
    assert response.headers["Location"] == "/bench/"


def test_a_mistyped_page_address_is_a_page_in_vietnamese_and_the_api_keeps_its_problem(hospital):
    client = hospital.client()
    sign_in(client, "cashier")
    page = client.get("/cashier/register-typo", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Không tìm thấy trang" in page.get_data(as_text=True) and "cashier" in page.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert client.get("/no-such-page", headers={"Accept": "application/json"}).mimetype == "application/problem+json"
