"""The admin's story in a real browser (Debian's Chromium), by keyboard, against a live gateway on this run's
database: create an account, reset its password, the user signs in and must change it before anything else opens,
then the admin finds that sign-in in the audit log."""

import re

import pytest
from playwright.sync_api import Page, expect

from seeds import seed_service
from tests.screens.browser import sign_in_by_keyboard
from tests.screens.conftest import SCREEN_SETTINGS


@pytest.fixture
def desk(make_app, live_server) -> str:
    """The gateway live with the demo users: the admin's whole world."""
    app = make_app("gateway", **SCREEN_SETTINGS)
    with app.app_context():
        seed_service("gateway")
    return live_server(app)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()


def test_admin_creates_a_user_resets_the_password_the_user_must_change_it_and_the_sign_in_is_audited(
        desk, page: Page, artifacts):
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, desk, "admin", lands_on="/admin/")
    expect(page.get_by_role("heading", name="Người dùng", exact=True)).to_be_visible()

    new_user = page.get_by_role("region", name="Người dùng mới")
    new_user.get_by_label("Tên đăng nhập (chữ thường").fill("ttlan")
    new_user.get_by_label("Họ và tên").fill("Trần Thị Lan")
    new_user.get_by_label("Vai trò", exact=True).select_option("cashier")
    new_user.get_by_label("Họ và tên").press("Enter")
    expect(page.locator("p[role=status]")).to_have_text("Đã tạo tài khoản ttlan.")
    first = page.locator("#temporary-password").inner_text()
    assert len(first) == 12

    page.get_by_label("Họ tên hoặc tên đăng nhập chứa").fill("ttlan")
    page.get_by_label("Họ tên hoặc tên đăng nhập chứa").press("Enter")
    row = page.locator("tr[data-username=ttlan]")
    expect(row).to_contain_text("phải đổi mật khẩu")
    row.get_by_role("button", name="Đặt lại mật khẩu của ttlan").click()
    expect(page.locator("p[role=status]")).to_have_text("Đã đặt lại mật khẩu của ttlan.")
    temporary = page.locator("#temporary-password").inner_text()
    assert temporary != first
    sign_out(page)

    sign_in_by_keyboard(page, desk, "ttlan", first)  # the first password no longer works
    expect(page.get_by_role("alert")).to_have_text("Sai tên đăng nhập hoặc mật khẩu.")
    sign_in_by_keyboard(page, desk, "ttlan", temporary)
    expect(page).to_have_url(desk + "/password")
    expect(page.get_by_role("status")).to_contain_text("Quản trị viên đã đặt mật khẩu cho bạn")
    page.goto(desk + "/cashier/")  # nothing else opens before the change
    expect(page).to_have_url(desk + "/password")
    expect(page.get_by_label("Mật khẩu hiện tại")).to_be_focused()
    page.keyboard.type(temporary)
    page.keyboard.press("Tab")
    page.keyboard.type("Thu-ngan-Lan-2026")
    page.keyboard.press("Tab")
    page.keyboard.type("Thu-ngan-Lan-2026")
    page.keyboard.press("Enter")
    expect(page).to_have_url(desk + "/cashier/")
    expect(page.locator(".who")).to_contain_text("ttlan")
    sign_out(page)

    sign_in_by_keyboard(page, desk, "admin")
    page.get_by_role("link", name="Nhật ký kiểm toán").click()
    page.get_by_label("Người dùng (tên đăng nhập)").fill("ttlan")
    page.get_by_label("Thao tác hoặc đường dẫn chứa").fill("/api/v1/auth/")
    page.get_by_label("Thao tác hoặc đường dẫn chứa").press("Enter")
    expect(page).to_have_url(re.compile(r"/admin/audit\?actor=ttlan&action=%2Fapi%2Fv1%2Fauth%2F"))
    lines = page.locator("table.audit tbody tr")
    expect(lines).to_have_count(3)  # the refused sign-in, the sign-in with the reset password, the change
    expect(lines.nth(0)).to_contain_text("POST /api/v1/auth/password")
    expect(lines.nth(1)).to_contain_text(re.compile(r"POST /api/v1/auth/token\s*200"))
    expect(lines.nth(2)).to_contain_text(re.compile(r"POST /api/v1/auth/token\s*401"))
    page.screenshot(path=str(artifacts / "admin-audit-sign-in.png"), full_page=True)
