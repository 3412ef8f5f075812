"""The pharmacy counter over HTTP (fast): the queue, dispensing FEFO with the lots shown first, partial dispensing,
refusals explained, receiving by scan (bad scans told clearly), returns, recalls with their recipients."""

import re
import uuid
from datetime import timedelta

from common import clock
from common.gs1 import gtin_check_digit
from seeds.demo_visits import OPEN_VISITS
from seeds.pharmacy_service import DRUGS, PRESCRIPTIONS
from tests.screens.conftest import csrf_of, sign_in
from tests.support import bearer

PHARMACIST = bearer("pharmacist")
GS = "\x1d"
HTMX = {"HX-Request": "true"}
AMOXICILLIN = DRUGS["amoxicillin"]["code"]
AMOXICILLIN_GTIN = DRUGS["amoxicillin"]["gtin"].zfill(14)


def signed_in_pharmacist(hospital):
    client = hospital.client()
    sign_in(client, "pharmacist")
    return client, csrf_of(client, "/pharmacy/")


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def api(hospital, path: str):
    response = hospital.client().get(f"/api/v1/pharmacy{path}", headers=PHARMACIST)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def post(client, csrf: str, path: str, **form):
    return client.post(path, data=form, headers={"X-CSRF-Token": csrf, **HTMX})


def dispense(client, csrf, prescription: int, quantities: dict[int, int], submission_id: str | None = None):
    fields = {f"qty_{line_id}": str(quantity) for line_id, quantity in quantities.items()}
    return post(client, csrf, "/pharmacy/dispenses", prescription=str(prescription),
                submission_id=submission_id or str(uuid.uuid4()), **fields)


def lots_of(hospital, code: str) -> dict[str, dict]:
    return {lot["lot_number"]: lot for lot in api(hospital, f"/drugs/{code}")["lots"]}


def test_the_queue_shows_the_seeded_prescriptions_oldest_first_on_visits_of_their_patients(hospital):
    client, _csrf = signed_in_pharmacist(hospital)
    queue = api(hospital, "/prescriptions?state=open&order=oldest")
    assert len(queue) == len(PRESCRIPTIONS)
    for prescription, (patient_name, _department, _lines) in zip(queue, PRESCRIPTIONS, strict=True):
        assert (prescription["patient_id"], prescription["encounter_id"]) == OPEN_VISITS[patient_name]
        visit = hospital.client().get(f"/api/v1/encounters/{prescription['encounter_id']}", headers=PHARMACIST)
        assert visit.get_json()["patient_id"] == prescription["patient_id"]
    page = client.get("/pharmacy/")
    shown = text_of(page)
    assert page.status_code == 200 and "Đơn thuốc đang chờ" in shown
    names = [name for name, _d, _l in PRESCRIPTIONS]
    assert [shown.index(name) for name in names] == sorted(shown.index(name) for name in names)
    assert "Amoxicillin 500 mg × 21 viên" in shown


def test_opening_a_prescription_shows_the_fefo_lots_with_their_conditions_and_takes_nothing(hospital):
    client, _csrf = signed_in_pharmacist(hospital)
    before = lots_of(hospital, DRUGS["losartan"]["code"])
    opened = client.get("/pharmacy/prescription?number=4", headers=HTMX)
    page = opened.get_data(as_text=True)
    assert opened.status_code == 200 and "Hoàng Minh Đức" in page
    section = page[page.index("Losartan 50 mg: 30"):]
    section = section[:section.index("</section>")]
    quarantined, usable = (lot for lot in sorted(before.values(), key=lambda lot: lot["expires_on"]))
    assert quarantined["condition"] == "quarantined" and usable["condition"] == "usable"
    assert re.search(rf'data-lot="{quarantined["lot_number"]}".*?đang cách ly.*?data-taken>—', section, re.S)
    assert re.search(rf'data-lot="{usable["lot_number"]}".*?dùng được.*?data-taken>30 viên', section, re.S)
    assert 'name="qty_' in page and "Phát thuốc" in page and "data-submission-id" in page
    assert lots_of(hospital, DRUGS["losartan"]["code"]) == before


def test_a_confirmed_dispense_takes_the_shown_lots_and_a_resubmitted_form_dispenses_once(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    prescription = api(hospital, "/prescriptions/1")
    plan = api(hospital, "/prescriptions/1/dispense-plan")
    quantities = {line["line_id"]: line["served"] for line in plan["lines"]}
    submission = str(uuid.uuid4())
    first = dispense(client, csrf, 1, quantities, submission)
    page = text_of(first)
    assert first.status_code == 200 and "queue-changed" in first.headers["HX-Trigger"]
    assert "Đã phát:" in page and "Nguyễn Văn An" in page
    first_lot = plan["lines"][0]["picks"][0]["lot_number"]
    assert first_lot in page and "22.050 ₫" in page.replace("\u00a0", " ")  # 21 × 1.050 đ
    again = dispense(client, csrf, 1, quantities, submission)
    assert again.status_code == 200 and "không phát hai lần" in text_of(again)
    after = api(hospital, "/prescriptions/1")
    assert len(after["dispense_ids"]) == 1 and after["status"] == "dispensed"
    assert prescription["status"] == "open"
    queue = client.get("/pharmacy/queue", headers=HTMX).get_data(as_text=True)
    assert 'data-prescription="1"' not in queue and 'data-prescription="2"' in queue


def test_dispensing_less_than_prescribed_leaves_the_remainder_open(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    [ceftriaxone, saline] = api(hospital, "/prescriptions/2")["lines"]
    replanned = client.get(f"/pharmacy/prescription?number=2&qty_{ceftriaxone['id']}=4&qty_{saline['id']}=0",
                           headers=HTMX)
    assert replanned.status_code == 200
    assert f'name="qty_{ceftriaxone["id"]}" value="4"' in replanned.get_data(as_text=True)
    assert "10 lọ còn lại vẫn mở trên đơn thuốc" in text_of(replanned)
    done = dispense(client, csrf, 2, {ceftriaxone["id"]: 4, saline["id"]: 0})
    assert done.status_code == 200 and "Còn mở trên đơn:" in text_of(done)
    after = api(hospital, "/prescriptions/2")
    assert after["status"] == "partially_dispensed"
    assert [(line["quantity_dispensed"], line["remaining"]) for line in after["lines"]] == [(4, 10), (0, 7)]
    assert "đã phát một phần" in text_of(client.get("/pharmacy/queue", headers=HTMX))


def test_short_stock_is_explained_naming_the_drug_and_what_is_usable(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    omeprazole = DRUGS["omeprazole"]["code"]
    lots = lots_of(hospital, omeprazole)
    first, second = sorted(lots.values(), key=lambda lot: lot["expires_on"])
    hospital.client().post(f"/api/v1/pharmacy/lots/{second['id']}/quarantine", json={"reason": "Chờ kiểm nghiệm"},
                           headers=PHARMACIST)
    left = first["quantity_on_hand"] - 20
    hospital.client().post(f"/api/v1/pharmacy/lots/{first['id']}/adjustments", headers={
        **PHARMACIST, "Idempotency-Key": str(uuid.uuid4())},
        json={"quantity_change": -left, "reason": "damaged", "note": "Vỉ rách"})
    [line] = api(hospital, "/prescriptions/3")["lines"]
    opened = client.get("/pharmacy/prescription?number=3", headers=HTMX)
    shown = text_of(opened)
    assert "Chỉ còn 20 viên dùng được: 8 viên chưa phát được lần này" in shown
    assert 'data-condition="quarantined"' in opened.get_data(as_text=True)
    refused = dispense(client, csrf, 3, {line["id"]: 28})
    assert refused.status_code == 409
    assert "Chưa phát: Omeprazol 20 mg (40.738): cần 28, hiện chỉ còn 20 dùng được" in text_of(refused)
    assert api(hospital, "/prescriptions/3")["dispense_ids"] == []
    assert dispense(client, csrf, 3, {line["id"]: 20}).status_code == 200
    assert "Hiện không phát được gì" in text_of(client.get("/pharmacy/prescription?number=3", headers=HTMX))


def test_bad_numbers_and_forms_are_told_clearly_never_a_500(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    assert "không phải số đơn thuốc" in text_of(client.get("/pharmacy/prescription?number=abc", headers=HTMX))
    missing = client.get("/pharmacy/prescription?number=999", headers=HTMX)
    assert missing.status_code == 404 and "Không có đơn thuốc 999" in text_of(missing)
    not_a_quantity = client.get("/pharmacy/prescription?number=1&qty_1=dozen", headers=HTMX)
    assert not_a_quantity.status_code == 422 and "không phải số lượng" in text_of(not_a_quantity)
    too_many = client.get("/pharmacy/prescription?number=1&qty_1=500", headers=HTMX)
    assert too_many.status_code == 200 and "chỉ còn 21 phải phát" in text_of(too_many)
    no_id = post(client, csrf, "/pharmacy/dispenses", prescription="1", qty_1="21")
    assert no_id.status_code == 422
    nothing = dispense(client, csrf, 1, {1: 0})
    assert nothing.status_code == 422
    over = dispense(client, csrf, 1, {1: 22})
    assert over.status_code == 422 and "chỉ còn 21 phải phát" in text_of(over)
    foreign_line = dispense(client, csrf, 1, {7: 1})
    assert foreign_line.status_code == 422
    assert client.get("/pharmacy/stock/lots/99999", headers=HTMX).status_code == 404
    assert client.get("/pharmacy/stock/drug?code=NOPE", headers=HTMX).status_code == 404
    assert client.get("/pharmacy/returns/find?number=x", headers=HTMX).status_code == 404
    assert api(hospital, "/prescriptions/1")["dispense_ids"] == []


def scan_text(lot: str, expires_in_days: int, serial: str = "SN0000123456", separator: str = GS) -> str:
    expires = clock.today() + timedelta(days=expires_in_days)
    return f"01{AMOXICILLIN_GTIN}17{expires:%y%m%d}10{lot}{separator}21{serial}"


def test_a_scanned_lot_is_read_with_or_without_its_group_separator_and_received_once(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    for separator in (GS, ""):
        read = client.get("/pharmacy/receive/scan", query_string={"code": scan_text("AMX2702S", 90,
                                                                                       separator=separator)},
                          headers=HTMX)
        page = read.get_data(as_text=True)
        assert read.status_code == 200 and "Amoxicillin 500 mg" in page and f"GTIN {AMOXICILLIN_GTIN}" in page
        assert 'name="lot_number" value="AMX2702S"' in page and 'name="serial" value="SN0000123456"' in page
        assert ("data-separator-missing" in page) == (separator == "")
    expires = (clock.today() + timedelta(days=90)).isoformat()
    form = {"drug": AMOXICILLIN, "gtin": AMOXICILLIN_GTIN, "expires_on": expires, "lot_number": "AMX2702S",
            "serial": "SN0000123456", "quantity": "1.200", "cost_amount": "861", "supplier": "Công ty CP Traphaco",
            "submission_id": str(uuid.uuid4())}
    received = post(client, csrf, "/pharmacy/lots", **form)
    shown = text_of(received)
    assert received.status_code == 200 and "Đã nhập:" in shown and "1.200 viên Amoxicillin 500 mg, lô AMX2702S" in shown
    assert "Lô hiện có 1.200 viên: dùng được" in shown
    again = post(client, csrf, "/pharmacy/lots", **form)
    assert again.status_code == 200 and "không nhập hai lần" in text_of(again)
    lot = lots_of(hospital, AMOXICILLIN)["AMX2702S"]
    assert (lot["quantity_received"], lot["unit_cost_amount"], lot["condition"]) == (1200, 861, "usable")
    card = api(hospital, f"/drugs/{AMOXICILLIN}/ledger")
    assert any(entry["reference"] == "gs1-serial:SN0000123456" for entry in card)


def test_bad_scans_are_told_clearly(hospital):
    client, csrf = signed_in_pharmacist(hospital)

    def scanned(code: str):
        return client.get("/pharmacy/receive/scan", query_string={"code": code}, headers=HTMX)

    garbage = scanned("ABC-123")
    assert garbage.status_code == 422 and "không phải mã GS1 DataMatrix" in text_of(garbage)
    wrong_digit = scanned(f"01{AMOXICILLIN_GTIN[:-1]}9172706301012345")
    assert wrong_digit.status_code == 422 and "check digit" in text_of(wrong_digit)
    no_lot = scanned(f"01{AMOXICILLIN_GTIN}17270630")
    assert no_lot.status_code == 422 and "thiếu GTIN (01), hạn dùng (17) hoặc số lô (10)" in text_of(no_lot)
    stranger = "0893699999999" + str(gtin_check_digit("0893699999999"))  # a valid GTIN of no catalogue drug
    unknown = scanned(f"01{stranger}17270630" "10X1")
    assert unknown.status_code == 404 and "không có trong danh mục thuốc" in text_of(unknown)
    full_page = client.get("/pharmacy/receive", query_string={"code": "nonsense"})
    assert full_page.status_code == 422 and "Nhập lô bằng quét mã" in text_of(full_page)
    expired = {"drug": AMOXICILLIN, "gtin": AMOXICILLIN_GTIN, "lot_number": "AMX2401E", "serial": "",
               "expires_on": (clock.today() - timedelta(days=3)).isoformat(), "quantity": "10", "cost_amount": "800",
               "supplier": "Công ty CP Traphaco", "submission_id": str(uuid.uuid4())}
    refused = post(client, csrf, "/pharmacy/lots", **expired)
    assert refused.status_code == 422 and "Lô này đã hết hạn" in text_of(refused)
    bad_quantity = post(client, csrf, "/pharmacy/lots", **{**expired, "quantity": "mười"})
    assert bad_quantity.status_code == 422 and "số nguyên" in text_of(bad_quantity)
    assert "AMX2401E" not in lots_of(hospital, AMOXICILLIN)


def test_a_return_shows_each_lots_condition_and_puts_the_units_back(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    [line] = api(hospital, "/prescriptions/3")["lines"]
    assert dispense(client, csrf, 3, {line["id"]: 28}).status_code == 200
    [dispense_id] = api(hospital, "/prescriptions/3")["dispense_ids"]
    record = api(hospital, f"/dispenses/{dispense_id}")
    [dispensed_line] = record["lines"]
    [pick] = dispensed_line["lots"]
    hospital.client().post(f"/api/v1/pharmacy/lots/{pick['lot_id']}/recall", json={"reason": "Công văn thu hồi"},
                           headers={**PHARMACIST, "Idempotency-Key": str(uuid.uuid4())})
    found = client.get("/pharmacy/returns/find?number=3", headers=HTMX)
    shown = text_of(found)
    assert found.status_code == 200 and "Trần Thị Bích" in shown and pick["lot_number"] in shown
    assert "đã thu hồi" in shown and "nhận lại sẽ để riêng, không lên kệ" in shown
    returned = post(client, csrf, "/pharmacy/returns", dispense=str(dispense_id), reason="Người bệnh trả lại",
                    submission_id=str(uuid.uuid4()), **{f"qty_{dispensed_line['id']}": "8"})
    shown = text_of(returned)
    assert returned.status_code == 200 and "Đã nhận lại:" in shown and "để riêng" in shown
    assert "6.400 ₫" in shown.replace("\u00a0", " ")  # 8 × 800 đ reversed
    lot = api(hospital, f"/lots/{pick['lot_id']}")
    assert (lot["quantity_quarantined"], lot["condition"]) == (8, "recalled")
    too_many = post(client, csrf, "/pharmacy/returns", dispense=str(dispense_id), reason="Nhầm",
                    submission_id=str(uuid.uuid4()), **{f"qty_{dispensed_line['id']}": "21"})
    assert too_many.status_code == 422 and "nhiều hơn số đã phát mà chưa nhận lại" in text_of(too_many)


def test_a_recall_lists_the_patients_and_prescriptions_that_got_the_lot(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    plan = api(hospital, "/prescriptions/1/dispense-plan")
    assert dispense(client, csrf, 1, {line["line_id"]: line["served"] for line in plan["lines"]}).status_code == 200
    lot_id = plan["lines"][0]["picks"][0]["lot_id"]
    lots = client.get(f"/pharmacy/stock/drug?code={AMOXICILLIN}", headers=HTMX)
    assert lots.status_code == 200 and 'data-condition="usable"' in lots.get_data(as_text=True)
    shown = text_of(client.get(f"/pharmacy/stock/lots/{lot_id}", headers=HTMX))
    assert "Nguyễn Văn An" in shown and "Thu hồi lô này" in shown
    submission = str(uuid.uuid4())
    recalled = post(client, csrf, f"/pharmacy/stock/lots/{lot_id}/recall", reason="Công văn thu hồi số 1234/QLD-CL",
                    submission_id=submission)
    shown = text_of(recalled)
    assert recalled.status_code == 200 and "Đã thu hồi:" in shown and "1 lượt khám được gắn cờ" in shown
    assert "Nguyễn Văn An 14/03/1988 1 1 21 0 21 viên" in shown  # visit 1, prescription 1, given, back, kept
    assert "đã thu hồi" in shown and "Thu hồi lô này" not in shown
    assert api(hospital, f"/lots/{lot_id}")["condition"] == "recalled"
    again = post(client, csrf, f"/pharmacy/stock/lots/{lot_id}/recall", reason="Công văn thu hồi số 1234/QLD-CL",
                 submission_id=submission)
    assert again.status_code == 200 and "không thu hồi hai lần" in text_of(again)
    twice = post(client, csrf, f"/pharmacy/stock/lots/{lot_id}/recall", reason="Lần nữa",
                 submission_id=str(uuid.uuid4()))
    assert twice.status_code == 409 and "Lô này đã được thu hồi trước đó" in text_of(twice)


def test_every_page_of_the_counter_opens_and_only_for_the_pharmacist(hospital):
    client, _csrf = signed_in_pharmacist(hospital)
    for path in ("/pharmacy/", "/pharmacy/receive", "/pharmacy/returns", "/pharmacy/stock",
                 f"/pharmacy/stock?code={AMOXICILLIN}", "/pharmacy/?number=2"):
        assert client.get(path).status_code == 200, path
    technician = hospital.client()
    sign_in(technician, "labtech")
    assert technician.get("/pharmacy/").status_code == 403


def test_scanning_a_pack_on_the_stock_page_picks_out_its_lot_for_a_recall(hospital):
    client, _csrf = signed_in_pharmacist(hospital)
    lots = sorted(lots_of(hospital, AMOXICILLIN).values(), key=lambda lot: lot["expires_on"])
    second = lots[1]
    expires = second["expires_on"].replace("-", "")[2:]
    found = client.get("/pharmacy/stock/drug", query_string={"code": f"01{AMOXICILLIN_GTIN}17{expires}"
                                                                     f"10{second['lot_number']}21SN99"}, headers=HTMX)
    page = found.get_data(as_text=True)
    assert found.status_code == 200 and "Amoxicillin 500 mg" in page
    row = re.search(rf'<tr data-lot="{second["lot_number"]}"[^>]*>', page).group(0)
    assert "data-scanned" in row
    unknown_lot = client.get("/pharmacy/stock/drug", query_string={"code": f"01{AMOXICILLIN_GTIN}1727063010NOPE"},
                             headers=HTMX)
    assert unknown_lot.status_code == 200 and "Lô NOPE của thuốc này không có trong kho" in text_of(unknown_lot)
    bad = client.get("/pharmacy/stock", query_string={"code": f"01{AMOXICILLIN_GTIN[:-1]}0"})
    assert bad.status_code == 422 and "Tồn kho và thu hồi" in text_of(bad)


def test_the_counter_opens_a_prescription_not_a_lot(hospital):
    page = signed_in_pharmacist(hospital)[0].get("/pharmacy/").get_data(as_text=True)
    assert ">Mở</button>" in page and "Mở lô" not in page


def test_the_stock_table_accounts_for_a_quarantined_lot_as_not_usable(hospital):
    page = signed_in_pharmacist(hospital)[0].get("/pharmacy/stock").get_data(as_text=True)
    row = re.search(r'<tr data-drug="40.527">(.*?)</tr>', page, re.S).group(1)  # losartan: its lot A is quarantined
    cells = [text_of_cell.strip() for text_of_cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[2:5] == ["1.600", "1.000 viên", "600 viên"], cells  # on hand = usable + not usable
    assert "Không dùng được" in page


def test_an_adjustment_of_one_and_a_half_is_refused_not_read_as_fifteen(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    lot = next(iter(lots_of(hospital, AMOXICILLIN).values()))
    path = f"/pharmacy/stock/lots/{lot['id']}/adjustments"
    form = {"direction": "add", "reason": "found", "note": "Hộp tìm thấy trong kho"}
    refused = post(client, csrf, path, quantity="1.5", submission_id=str(uuid.uuid4()), **form)
    assert refused.status_code == 422
    assert lots_of(hospital, AMOXICILLIN)[lot["lot_number"]]["quantity_on_hand"] == lot["quantity_on_hand"]
    taken = post(client, csrf, path, quantity="1.000", submission_id=str(uuid.uuid4()), **form)
    assert taken.status_code == 200, text_of(taken)
    assert lots_of(hospital, AMOXICILLIN)[lot["lot_number"]]["quantity_on_hand"] == lot["quantity_on_hand"] + 1000
