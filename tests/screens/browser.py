"""What the browser tests share: signing in as a user at the desk does, by keyboard."""

from playwright.sync_api import Page, expect

READY = "() => window.htmx !== undefined && document.readyState === 'complete'"


def sign_in_by_keyboard(page: Page, url: str, username: str, password: str = "demo", *, start: str = "/sign-in",
                        lands_on: str | None = None) -> None:
    """Open `start`, type the name into the field that has the focus on arrival, Tab, the password, Enter; then, when
    `lands_on` is given, wait for that page with its scripts loaded.

    The name field's autofocus lands after the page's load event, so the typing waits for it: a key pressed before
    it would be lost (CI once signed in as 'inance')."""
    page.goto(url + start)
    expect(page.get_by_label("Tên đăng nhập")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    if lands_on is not None:
        expect(page).to_have_url(url + lands_on)
        page.wait_for_function(READY)
