"""The screens on an old PC's budget: bytes of each role's first page load, and the bench's log round trip.

(a) For each demo user: sign in through the page, then open their home page in a fresh browser context (empty
    cache, the session cookie kept) and add up what crosses the wire for it: the HTML, CSS, JS and icon, headers
    included. Target: <= 150 KB each.
(b) The lab technician on the bench scans a visit once, then logs glucose runs by typing the test and Enter; each
    round trip is timed in the page, from htmx sending the form to the answer settled on screen (the API call,
    FEFO, the ledger and the charge included). Target: p95 <= 300 ms. The p95 is printed last.

Real processes (gunicorn, PostgreSQL, the sweeper) as bench/harness.py starts them; Debian's Chromium, headless,
on 127.0.0.1 only; a bounded number of runs.
Run: .venv/bin/python -m bench.pages [runs]
"""

import sys

from playwright.sync_api import sync_playwright

from bench.harness import CHROMIUM, CHROMIUM_ARGS, percentile, start_stack

USERS = ("labtech", "labhead", "pharmacist", "cashier", "finance", "admin")
BUDGET_BYTES = 150 * 1024
# Each round trip, timed in the page: from htmx sending the log form to its answer settled in #run-result.
TIMING = """() => {
  window.roundTrips = [];
  let sent = 0;
  document.body.addEventListener('htmx:beforeRequest', e => {
    if (e.detail.pathInfo.requestPath.endsWith('/bench/runs')) { sent = performance.now(); }
  });
  document.body.addEventListener('htmx:afterSettle', e => {
    if (sent && e.detail.target.id === 'run-result') { window.roundTrips.push(performance.now() - sent); sent = 0; }
  });
}"""


def sign_in(page, gateway: str, username: str) -> None:
    page.goto(f"{gateway}/sign-in")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.press("#password", "Enter")
    page.wait_for_load_state("networkidle")


def first_load_bytes(browser, gateway: str, username: str) -> tuple[str, int, int]:
    """Return (home path, bytes, requests) of a user's home page opened with an empty cache."""
    signing_in = browser.new_context()
    page = signing_in.new_page()
    sign_in(page, gateway, username)
    home, state = page.url.removeprefix(gateway), signing_in.storage_state()
    signing_in.close()
    fresh = browser.new_context(storage_state=state)
    page, seen = fresh.new_page(), []
    page.on("requestfinished", lambda request: seen.append(request))
    page.goto(gateway + home, wait_until="networkidle")
    total = 0
    for request in seen:
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"] + sizes["requestHeadersSize"]
    fresh.close()
    return home, total, len(seen)


def bench_round_trips(browser, gateway: str, runs: int) -> list[float]:
    """Log `runs` glucose runs from the bench by keyboard; return each round trip in ms."""
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, gateway, "labtech")
    page.evaluate(TIMING)
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#test:focus")
    for number in range(runs):
        page.keyboard.type("GLU")
        page.keyboard.press("Enter")
        page.wait_for_function(f"window.roundTrips.length > {number}")
        page.wait_for_load_state("networkidle")  # the banner and worklist refreshes that follow are not timed
    trips = page.evaluate("window.roundTrips")
    context.close()
    return trips


def main(runs: int = 60) -> None:
    with start_stack() as stack, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))
        for username in USERS:
            home, size, requests = first_load_bytes(browser, stack["gateway"], username)
            verdict = "ok" if size <= BUDGET_BYTES else "OVER BUDGET"
            print(f"{username:<11} first load of {home:<11} {size / 1024:6.1f} KB in {requests} requests "
                  f"(target <= 150 KB: {verdict})")
        trips = sorted(bench_round_trips(browser, stack["gateway"], runs))
        browser.close()
    print(f"bench log round trips: {len(trips)}, p50 {percentile(trips, 0.5):.0f} ms, max {trips[-1]:.0f} ms")
    print(f"bench log round trip p95 through the browser (target <= 300 ms): {percentile(trips, 0.95):.0f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
