"""What the browser tests share: signing in, scanning and pressing a control as a user at the desk does, by
keyboard; and the check that every field has a label.

A page's autofocus lands after its load event, so a key pressed right after arriving can be lost (CI once signed in
as 'inance'): what types here first waits for a field to have the focus."""

from playwright.sync_api import Page, expect

LOADED = "window.htmx !== undefined && document.readyState === 'complete'"  # the page and its htmx
# The page's form fields that no <label> names (a screen reader, and get_by_label, could not find them).
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(field => field.labels.length === 0).map(field => field.name || field.id)"""


def sign_in_by_keyboard(page: Page, url: str, username: str, password: str = "demo", *, start: str = "/sign-in",
                        lands_on: str | None = None) -> None:
    """Open `start`, type the name into the field that has the focus on arrival, Tab, the password, Enter; then, when
    `lands_on` is given, wait for that page with its scripts loaded."""
    page.goto(url + start)
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
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
    page.wait_for_function(f"() => {LOADED}")
    page.evaluate("window.sameDocument = true")


def scan(page: Page, text: str) -> None:
    """What a barcode scanner sends, the code then Enter, into the field that has the focus."""
    expect(page.locator("input:focus, textarea:focus")).to_have_count(1)
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def press_on(page: Page, locator) -> None:
    """Reach a control by keyboard focus and press Enter on it, as a keyboard user does (once htmx has settled the
    last answer: a form swapped in a moment ago is wired to htmx only then, a person is never that quick; and once a
    page just opened has loaded htmx, or a link meant for htmx is followed as a plain one)."""
    settled = "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    page.wait_for_function(f"() => {LOADED} && {settled}")
    locator.focus()
    page.keyboard.press("Enter")
