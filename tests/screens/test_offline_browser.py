"""The bench offline, in Debian's Chromium against the real processes (gunicorn, the sweeper) on this run's engine:
runs logged with the network cut wait in the browser's outbox (IndexedDB), survive a reload (the service worker
serves the page), and are sent once each on reconnect; a gateway stopped and started again mid-way loses and
doubles nothing; two tabs replaying at once send each item once."""

import re
from collections import Counter

import pytest
import requests
from playwright.sync_api import Page, expect

from bench.harness import keyed, start_stack, token
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


def all_pending_again(page: Page) -> None:
    """Put every item of the outbox back to pending, as if none of the answers had come back."""
    page.evaluate("""() => window.Outbox.items().then(items => new Promise(done => {
        const open = indexedDB.open('hospital-outbox', 1);
        open.onsuccess = () => {
          const tx = open.result.transaction('items', 'readwrite');
          items.forEach(item => tx.objectStore('items').put({...item, state: 'pending'}));
          tx.oncomplete = () => done(true);
        };
      }))""")
    page.evaluate("window.Outbox.render()")


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
    assert [item["state"] for item in items_in(page)] == ["sent"] * 10, items_in(page)[:1]
    expect(page.locator("[data-outbox-synced]")).to_have_text(re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d"))
    page.screenshot(path=artifacts / "bench-offline-replayed.png", full_page=True)
    runs = runs_on(stack, visit)
    assert len(runs) == runs_before + 10
    assert glucose_on_hand(stack) == stock_before - 10 * GLUCOSE_RECIPE
    wait_for(lambda: len(lab_charges_of(stack, patient, visit)) == charges_before + 10, "10 charges on the record")

    # The whole queue sent again by hand (as if every answer had been lost): the server replays, nothing changes.
    all_pending_again(page)
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
    mine = [item for item in items_in(page) if item["label"].endswith(f"lượt khám {visit}, xét nghiệm GLU")]
    assert len(mine) == 10 and {item["state"] for item in mine} == {"sent"}


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


def test_a_run_refused_on_replay_is_shown_with_what_to_do_and_kept_until_the_technician_acts(stack, context, artifacts):
    closed, _patient = visit_of("Phạm Thị Dung")  # closed this morning: the server refuses runs on it
    page = controlled(open_bench(context))
    context.set_offline(True)
    log_glucose(page, closed, kept=True)
    context.set_offline(False)
    refused = page.locator("[data-outbox-item][data-state=refused]")
    expect(refused).to_have_count(1, timeout=60_000)
    expect(refused).to_contain_text(f"Lượt khám {closed} đã đóng")
    expect(refused).to_contain_text("Thử lại")
    expect(page.locator("[data-outbox-refused]")).to_have_text("1")
    page.screenshot(path=artifacts / "bench-offline-refused.png", full_page=True)
    page.reload()  # kept: nothing is silently dropped
    expect(refused).to_have_count(1)
    refused.get_by_role("button", name="Đã xử lý").click()
    expect(refused).to_have_count(0)
    expect(page.locator("[data-outbox-refused]")).to_have_text("0")


def test_a_run_whose_answer_was_lost_on_the_way_back_is_kept_and_its_replay_logs_nothing_twice(browser, stack):
    """The server logged the run but the answer never reached the browser (the link broke on the way back): the
    form is kept, and its replay gets the first answer (Idempotency-Key), not a second run. Without a service
    worker (as over plain HTTP on a LAN address): the outbox works alone."""
    context = browser.new_context(base_url=stack["gateway"], locale="vi-VN", service_workers="block")
    try:
        visit, _patient = visit_of("Hoàng Minh Đức")
        page = open_bench(context)
        runs_before = len(runs_on(stack, visit))
        lost = []

        def lose_the_first_answer(route):
            if not lost:
                lost.append(route.fetch())  # it reached the server, which logged the run
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/bench/runs", lose_the_first_answer)
        log_glucose(page, visit, kept=True)
        assert lost and lost[0].status == 200 and len(runs_on(stack, visit)) == runs_before + 1
        page.get_by_role("button", name="Gửi lại").click()
        sent = page.locator("[data-outbox-item][data-state=sent]")
        expect(sent).to_have_count(1, timeout=30_000)
        expect(pending(page)).to_have_text("0")
        assert len(runs_on(stack, visit)) == runs_before + 1
    finally:
        context.close()


def test_runs_kept_while_the_session_ended_are_sent_after_signing_in_again(stack, context):
    visit, _patient = visit_of("Hoàng Minh Đức")
    page = controlled(open_bench(context))
    runs_before = len(runs_on(stack, visit))
    context.set_offline(True)
    log_glucose(page, visit, kept=True)
    context.clear_cookies()  # the session ran out while the bench was offline
    context.set_offline(False)
    page.evaluate("window.Outbox.replay()")
    expect(page).to_have_url(re.compile("/sign-in"), timeout=30_000)  # the page's next poll asks for a sign-in
    assert len(runs_on(stack, visit)) == runs_before
    page.get_by_label("Tên đăng nhập").fill("labtech")
    page.get_by_label("Mật khẩu").fill("demo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/bench/"))
    # sent on page load, with the new session's token (the badge's "0" is there before the outbox has looked)
    expect(page.locator("[data-outbox-item][data-state=sent]")).to_have_count(1, timeout=30_000)
    expect(pending(page)).to_have_text("0")
    assert len(runs_on(stack, visit)) == runs_before + 1


def test_a_worklist_order_opens_its_log_form_offline_with_its_test_filled_in(stack, context):
    visit, _patient = visit_of("Lê Văn Cường")
    page = controlled(open_bench(context))
    context.set_offline(True)
    page.locator(f"#worklist tr[data-visit='{visit}'][data-test='CBC']").get_by_role("button").click()
    expect(page.locator("#visit-panel [data-visit-offline]")).to_contain_text("Lê Văn Cường")
    test = page.locator("#visit-panel #test")
    expect(test).to_have_value("CBC")
    expect(test).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#run-result [data-queued]")).to_be_visible()
    kept = [item for item in items_in(page) if item["state"] == "pending"]
    assert [dict(item["fields"])["test"] for item in kept] == ["CBC"]
    assert dict(kept[0]["fields"])["visit"] == visit  # never sent: the context (and its IndexedDB) closes


# --- the pharmacy counter -------------------------------------------------------------------------------------------

COUNTER_LINES = (  # (demo patient, drug code, quantity): one prescription each, every drug on one only
    ("Nguyễn Văn An", "40.566", 30),  # atorvastatin
    ("Lê Văn Cường", "40.697", 2),  # insulin glargine: another counter gives all of it away meanwhile
    ("Trần Thị Bích", "TPCN.0412", 20),  # glucosamine
    ("Hoàng Minh Đức", "40.51", 10),  # paracetamol
    ("Nguyễn Văn An", "40.1053", 3),  # sodium chloride
)
INSULIN = "40.697"


def pharmacy(stack, method: str, path: str, **kwargs):
    headers = token(stack["gateway"], "pharmacist")
    if method == "POST":
        headers = keyed(headers)
    answer = requests.request(method, f"{stack['gateway']}/api/v1/pharmacy{path}", headers=headers, timeout=TIMEOUT,
                              **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json()


def on_hand(stack, drug_code: str) -> int:
    return sum(lot["quantity_on_hand"] for lot in pharmacy(stack, "GET", f"/drugs/{drug_code}")["lots"])


def prescribe(stack, patient_name: str, drug_code: str, quantity: int) -> dict:
    visit, patient = visit_of(patient_name)
    return pharmacy(stack, "POST", "/prescriptions", json={
        "encounter_id": visit, "patient_id": patient, "prescriber": "BS.CKI Nguyễn Thị Hạnh",
        "lines": [{"drug_code": drug_code, "quantity": quantity, "instructions": "Theo chỉ dẫn của bác sĩ"}]})


def open_counter(context) -> Page:
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/pharmacy/")
    page.get_by_label("Tên đăng nhập").fill("pharmacist")
    page.get_by_label("Mật khẩu").fill("demo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/pharmacy/$"))
    page.wait_for_function("() => window.Outbox !== undefined && document.readyState === 'complete'")
    return page


STORED = """() => caches.open('hospital-pages-v1').then(cache => cache.keys())
  .then(requests => requests.map(request => new URL(request.url).pathname + new URL(request.url).search))"""


def test_five_dispenses_offline_one_no_longer_coverable_give_four_dispensed_and_one_refused_stock_exact(
        stack, context, artifacts):
    prescriptions = [prescribe(stack, *line) for line in COUNTER_LINES]
    before = {code: on_hand(stack, code) for _name, code, _quantity in COUNTER_LINES}
    page = controlled(open_counter(context))  # the queue's prescriptions are stored while online
    wanted = {f"/pharmacy/prescription?number={p['id']}" for p in prescriptions}
    wait_for(lambda: wanted <= set(page.evaluate(STORED)), "the queue's prescriptions stored for offline")

    context.set_offline(True)
    for number, prescription in enumerate(prescriptions, start=1):
        page.locator("#scan").focus()
        page.keyboard.type(str(prescription["id"]))
        page.keyboard.press("Enter")
        confirm = page.get_by_role("button", name="Phát thuốc")
        expect(confirm).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#prescription-panel [data-queued]")).to_be_visible()
        expect(pending(page)).to_have_text(str(number))
    page.reload()
    expect(pending(page)).to_have_text("5")

    # meanwhile, at another counter that is online, the insulin is all given away
    everything = before[INSULIN]
    other = prescribe(stack, "Hoàng Minh Đức", INSULIN, everything)
    pharmacy(stack, "POST", f"/prescriptions/{other['id']}/dispenses",
             json={"lines": [{"line_id": other["lines"][0]["id"], "quantity": everything}]})

    context.set_offline(False)
    expect(pending(page)).to_have_text("0", timeout=60_000)
    expect(page.locator("[data-outbox-item][data-state=sent]")).to_have_count(4)
    refused = page.locator("[data-outbox-item][data-state=refused]")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(f"{prescriptions[1]['id']}")
    expect(refused.locator(".outbox-why")).not_to_be_empty()
    page.screenshot(path=artifacts / "counter-offline-replayed.png", full_page=True)
    for (_name, code, quantity), prescription in zip(COUNTER_LINES, prescriptions, strict=True):
        expected = 0 if code == INSULIN else before[code] - quantity
        assert on_hand(stack, code) == expected, code
        dispensed = pharmacy(stack, "GET", f"/prescriptions/{prescription['id']}")["lines"][0]["quantity_dispensed"]
        assert dispensed == (0 if code == INSULIN else quantity), code

    # the whole queue sent again by hand: the four are answered from the first time, the fifth refused again
    all_pending_again(page)
    expect(pending(page)).to_have_text("5")
    page.get_by_role("button", name="Gửi lại").click()
    expect(pending(page)).to_have_text("0", timeout=60_000)
    expect(refused).to_have_count(1)
    for _name, code, quantity in COUNTER_LINES:
        assert on_hand(stack, code) == (0 if code == INSULIN else before[code] - quantity), code
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
