"""The bench offline, in Debian's Chromium against the real processes (gunicorn, the sweeper) on this run's engine:
runs logged with the network cut wait in the browser's outbox (IndexedDB), survive a reload (the service worker
serves the page), and are sent once each on reconnect; a gateway stopped and started again mid-way loses and
doubles nothing; two tabs replaying at once send each item once."""

import re
from collections import Counter

import pytest
import requests
from playwright.sync_api import Page, expect

from bench.harness import start_stack, token
from common import clock
from seeds.demo_visits import visit_of

TIMEOUT = 30
GLUCOSE_RECIPE = 200  # uL of GLU-R1 per glucose run (seeds/lab_service.py)


@pytest.fixture(scope="module")
def stack(engine):
    with start_stack(engine=engine, env_overrides={"SCREENS_POLL_SECONDS": "2", "OUTBOX_MAX_BACKOFF_SECONDS": "1"},
                     workers=1) as running:
        yield running


@pytest.fixture
def context(browser, stack):
    context = browser.new_context(base_url=stack["gateway"], locale="vi-VN")
    yield context
    context.close()


def open_bench(context) -> Page:
    """A new tab signed in as the lab technician (the session cookie is shared by the context's tabs)."""
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/bench/")
    if "/sign-in" in page.url:
        page.get_by_label("Tên đăng nhập").fill("labtech")
        page.get_by_label("Mật khẩu").fill("demo")
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/bench/$"))
    page.wait_for_function("() => window.Outbox !== undefined && document.readyState === 'complete'")
    return page


def controlled(page: Page) -> Page:
    """Wait for the service worker, then reload once so that it serves (and stores) the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null && window.Outbox !== undefined")
    return page


def log_glucose(page: Page, visit: str, kept: bool) -> None:
    """Scan a visit and log a glucose run by keyboard; `kept`: it must land in the outbox, not be logged."""
    scan = page.locator("#scan")
    scan.focus()
    page.keyboard.type(visit)
    page.keyboard.press("Enter")
    test = page.locator("#visit-panel #test")
    expect(test).to_be_focused()
    page.keyboard.type("GLU")
    page.keyboard.press("Enter")
    if kept:
        expect(page.locator("#run-result [data-queued]")).to_be_visible()
    else:
        expect(page.locator("#run-result [data-logged]")).to_be_visible()
    expect(test).to_have_value("")


def pending(page: Page):
    return page.locator("[data-outbox-panel] [data-outbox-count]")


def items_in(page: Page) -> list[dict]:
    return page.evaluate("window.Outbox.items()")


def runs_on(stack, visit: str) -> list[dict]:
    answer = requests.get(f"{stack['gateway']}/api/v1/lab/test-runs", params={"encounter_id": visit, "limit": 100},
                          headers=token(stack["gateway"], "labhead"), timeout=TIMEOUT)
    answer.raise_for_status()
    return answer.json()


def glucose_on_hand(stack) -> int:
    answer = requests.get(f"{stack['gateway']}/api/v1/lab/reagents/GLU-R1", headers=token(stack["gateway"], "labhead"),
                          timeout=TIMEOUT)
    answer.raise_for_status()
    return answer.json()["on_hand"]


def lab_charges_of(stack, patient: str, visit: str) -> list[dict]:
    answer = requests.get(f"{stack['gateway']}/api/v1/patients/{patient}/record",
                          headers=token(stack["gateway"], "cashier"), timeout=TIMEOUT)
    answer.raise_for_status()
    return [charge for encounter in answer.json()["encounters"] if str(encounter["id"]) == visit
            for charge in encounter["charges"]]


def wait_for(predicate, message: str, timeout: float = 60):
    from tests.support import wait_until

    return wait_until(predicate, timeout=timeout, interval=0.3, message=message)


def test_ten_runs_logged_offline_survive_a_reload_and_are_sent_once_each(stack, context, artifacts):
    visit, patient = visit_of("Nguyễn Văn An")
    page = controlled(open_bench(context))
    runs_before, stock_before = len(runs_on(stack, visit)), glucose_on_hand(stack)
    charges_before = len(lab_charges_of(stack, patient, visit))

    context.set_offline(True)
    for number in range(10):
        log_glucose(page, visit, kept=True)
        expect(pending(page)).to_have_text(str(number + 1))
    expect(page.locator("[data-outbox-panel]")).to_have_class(re.compile("offline"))
    page.reload()  # offline: the service worker serves the stored page; the outbox is in IndexedDB
    expect(pending(page)).to_have_text("10")
    page.screenshot(path=artifacts / "bench-offline-outbox.png", full_page=True)
    assert len(runs_on(stack, visit)) == runs_before

    context.set_offline(False)  # the "online" event starts the replay
    expect(pending(page)).to_have_text("0", timeout=60_000)
    expect(page.locator("[data-outbox-item][data-state=sent]")).to_have_count(10)
    expect(page.locator("[data-outbox-synced]")).to_have_text(re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d"))
    page.screenshot(path=artifacts / "bench-offline-replayed.png", full_page=True)
    runs = runs_on(stack, visit)
    assert len(runs) == runs_before + 10
    assert glucose_on_hand(stack) == stock_before - 10 * GLUCOSE_RECIPE
    wait_for(lambda: len(lab_charges_of(stack, patient, visit)) == charges_before + 10, "10 charges on the record")

    # The whole queue sent again by hand (as if every answer had been lost): the server replays, nothing changes.
    page.evaluate("""() => window.Outbox.items().then(items => new Promise(done => {
        const open = indexedDB.open('hospital-outbox', 1);
        open.onsuccess = () => {
          const tx = open.result.transaction('items', 'readwrite');
          items.forEach(item => tx.objectStore('items').put({...item, state: 'pending'}));
          tx.oncomplete = () => done(true);
        };
      }))""")
    page.evaluate("window.Outbox.render()")
    expect(pending(page)).to_have_text("10")
    page.get_by_role("button", name="Gửi lại").click()
    expect(pending(page)).to_have_text("0", timeout=60_000)
    assert len(runs_on(stack, visit)) == runs_before + 10
    assert glucose_on_hand(stack) == stock_before - 10 * GLUCOSE_RECIPE
    assert len(lab_charges_of(stack, patient, visit)) == charges_before + 10


def test_a_gateway_stopped_and_started_mid_way_through_20_logs_gives_20_runs(stack, context):
    visit, _patient = visit_of("Lê Văn Cường")
    page = controlled(open_bench(context))
    runs_before = len(runs_on(stack, visit))
    for _ in range(10):
        log_glucose(page, visit, kept=False)
    stack.stop("gateway")  # the server goes away, not the browser: requests fail for want of a server
    try:
        for number in range(10):
            log_glucose(page, visit, kept=True)
            expect(pending(page)).to_have_text(str(number + 1))
    finally:
        stack.start("gateway")
    page.get_by_role("button", name="Gửi lại").click()
    expect(pending(page)).to_have_text("0", timeout=60_000)
    runs = runs_on(stack, visit)
    assert len(runs) == runs_before + 20
    assert len({run["id"] for run in runs}) == len(runs)
    assert {item["state"] for item in items_in(page) if item["label"].endswith(f"{visit} · GLU")} == {"sent"}


NO_WEB_LOCKS = "Object.defineProperty(Navigator.prototype, 'locks', {get: () => undefined})"


@pytest.mark.parametrize("locks", ["web-locks", "indexeddb-lease"])
def test_two_tabs_offline_both_replaying_send_each_item_once(stack, context, locks):
    """With the Web Locks API (Chromium, Firefox, Safari) and without it (the IndexedDB claim with a lease)."""
    if locks == "indexeddb-lease":
        context.add_init_script(NO_WEB_LOCKS)
    visit, _patient = visit_of("Trần Thị Bích")
    first = controlled(open_bench(context))
    second = open_bench(context)
    sent = Counter()

    def count(request):
        if request.method == "POST" and request.url.endswith("/bench/runs"):
            sent[re.search(r"submission_id=([0-9a-f-]+)", request.post_data or "").group(1)] += 1

    for tab in (first, second):
        tab.on("request", count)
    runs_before = len(runs_on(stack, visit))
    context.set_offline(True)
    for tab in (first, second, first, second, first, second):
        log_glucose(tab, visit, kept=True)
    expect(pending(first)).to_have_text("6")
    second.evaluate("window.Outbox.render()")
    expect(pending(second)).to_have_text("6")
    context.set_offline(False)  # both tabs hear "online" and replay at once
    for tab in (first, second):
        tab.evaluate("window.Outbox.replay()")
        expect(pending(tab)).to_have_text("0", timeout=60_000)
    assert len(sent) == 6 and set(sent.values()) == {1}, sent
    assert len(runs_on(stack, visit)) == runs_before + 6


def test_the_outbox_writes_times_in_the_hospital_zone_whatever_the_pc_clock_zone(browser, stack):
    elsewhere = browser.new_context(base_url=stack["gateway"], locale="vi-VN", timezone_id="Europe/Paris")
    try:
        page = controlled(open_bench(elsewhere))
        elsewhere.set_offline(True)
        log_glucose(page, visit_of("Lê Văn Cường")[0], kept=True)
        logged_at = page.locator("[data-outbox-panel] [data-outbox-item]").first.inner_text()
        elsewhere.set_offline(False)
    finally:
        elsewhere.close()
    hospital_now, moment = clock.local_time(clock.now()), re.search(r"(\d\d/\d\d/\d{4}) (\d\d):(\d\d)", logged_at)
    assert moment, logged_at
    shown = hospital_now.replace(hour=int(moment.group(2)), minute=int(moment.group(3)))
    assert moment.group(1) == hospital_now.strftime("%d/%m/%Y") and abs((hospital_now - shown).total_seconds()) < 180
