"""A refused form says which fields to fix by the names the form shows, in the chosen language, never by the API's
field names (gateway/screens/fields.py): in a real browser (Debian's Chromium), by keyboard, at the cashier desk."""

import pytest
from playwright.sync_api import Page, expect

from seeds import seed_service
from tests.screens.browser import sign_in_by_keyboard
from tests.screens.conftest import SCREEN_SETTINGS


@pytest.fixture
def gateway_url(make_app, live_server) -> str:
    """The gateway live with the demo users (registration needs nothing else)."""
    app = make_app("gateway", **SCREEN_SETTINGS)
    with app.app_context():
        seed_service("gateway")
    return live_server(app)


def register(page: Page, cccd: str, name: str, born: str) -> None:
    """Fill the registration form by keyboard (CCCD is focused on arrival) and send it."""
    expect(page.locator("#cccd")).to_be_focused()
    page.keyboard.type(cccd)
    page.keyboard.press("Tab")
    page.keyboard.type(name)
    page.locator("#birth_date").fill(born)
    page.locator("#phone").fill("0912345678")
    page.locator("#phone").press("Enter")


def test_a_refused_registration_names_the_cccd_field_in_vietnamese_then_in_english(gateway_url, page: Page,
                                                                                     artifacts):
    page.set_default_timeout(10_000)
    sign_in_by_keyboard(page, gateway_url, "cashier", lands_on="/cashier/")

    page.goto(gateway_url + "/cashier/patients/new")
    register(page, "001090123456", "Đỗ Văn Hải", "1985-05-01")  # the CCCD says born in 1990
    refusal = page.get_by_role("alert")
    expect(refusal).to_have_text("Một số ô chưa được điền đúng. Hãy kiểm tra: Số CCCD.")
    expect(refusal).not_to_contain_text("cccd")
    expect(page.locator("#full_name")).to_have_value("Đỗ Văn Hải")  # what was typed stays
    page.screenshot(path=str(artifacts / "refusal-fields-vi.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    page.goto(gateway_url + "/cashier/patients/new")
    register(page, "001090123456", "Đỗ Văn Hải", "1985-05-01")
    expect(page.get_by_role("alert")).to_have_text("Some fields are not filled in correctly. Check: CCCD number.")
