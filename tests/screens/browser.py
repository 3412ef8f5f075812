"""What the browser tests share: signing in and scanning as a user at the desk does, by keyboard.

A page's autofocus lands after its load event, so a key pressed right after arriving can be lost (CI once signed in
as 'inance'): what types here first waits for a field to have the focus."""

from playwright.sync_api import Page, expect

READY = "() => window.htmx !== undefined && document.readyState === 'complete'"


def sign_in_by_keyboard(page: Page, url: str, username: str, password: str = "demo", *, start: str = "/sign-in",
                        lands_on: str | None = None) -> None:
    """Open `start`, type the name into the field that has the focus on arrival, Tab, the password, Enter; then, when
    `lands_on` is given, wait for that page with its scripts loaded."""
    page.goto(url + start)
    expect(page.get_by_label("Tên đăng nhập")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    if lands_on is not None:
        expect(page).to_have_url(url + lands_on)
        ready(page)


def ready(page: Page) -> None:
    """Wait for the page's scripts (htmx) to be loaded, and mark the document: the mark is gone if anything reloads
    the page (`window.sameDocument`)."""
    page.wait_for_function(READY)
    page.evaluate("window.sameDocument = true")


def scan(page: Page, text: str) -> None:
    """What a barcode scanner sends, the code then Enter, into the field that has the focus."""
    expect(page.locator("input:focus, textarea:focus")).to_have_count(1)
    page.keyboard.type(text)
    page.keyboard.press("Enter")
