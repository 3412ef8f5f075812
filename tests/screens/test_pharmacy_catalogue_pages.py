"""The pharmacy's catalogue, counts and adjustments over HTTP (fast): a drug added from the form (refusals in the
form with what was typed, a duplicate named), the catalogue paged, a lot counted with its discrepancy shown and
counted once however often the form is sent, an adjustment with its reason, refusals never a 500."""

import re
import uuid
from datetime import timedelta

from common import clock
from common.gs1 import gtin_check_digit
from seeds.pharmacy_service import DRUGS
from tests.screens.test_pharmacy_pages import HTMX, PHARMACIST, api, lots_of, post, signed_in_pharmacist, text_of

GTIN = "8936045123454"  # GS1 Vietnam prefix 893, check digit 4
assert gtin_check_digit(GTIN[:-1]) == int(GTIN[-1])
AMOXICILIN = {"gtin": GTIN, "code": "40.158.2", "name": "Amoxicilin", "active_ingredient": "Amoxicilin (dưới dạng "
              "trihydrat)", "strength": "500 mg", "dosage_form": "Viên nang cứng", "route": "Uống",
              "atc_code": "j01ca04", "registration_number": "VD-27662-17", "base_unit": "capsule", "unit_name": "",
              "price_amount": "1.150", "insurance_scope": "1", "insurance_rate": "100", "reorder_level": "300"}
SEEDED = DRUGS["amoxicillin"]


def add(client, csrf, submission_id: str | None = None, **changes):
    return post(client, csrf, "/pharmacy/drugs", submission_id=submission_id or str(uuid.uuid4()),
                **{**AMOXICILIN, **changes})


def field_errors(response) -> set[str]:
    return set(re.findall(r'data-field-error="(\w+)"', response.get_data(as_text=True)))


def value_of(response, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', response.get_data(as_text=True)).group(1)


def test_a_drug_is_added_from_the_form_and_a_resubmitted_form_adds_it_once(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    page = client.get("/pharmacy/catalogue")
    shown = text_of(page)
    assert page.status_code == 200 and "Thêm thuốc vào danh mục" in shown and "Danh mục thuốc, theo mã" in shown
    assert 'href="/pharmacy/catalogue" aria-current="page"' in page.get_data(as_text=True)
    assert re.search(r'id="drug-gtin"[^>]*autofocus', page.get_data(as_text=True))
    submission = str(uuid.uuid4())
    added = add(client, csrf, submission)
    shown = text_of(added)
    assert added.status_code == 200 and added.headers["HX-Trigger"] == "drug-added"
    assert "Đã thêm vào danh mục: Amoxicilin 500 mg · mã 40.158.2 · ATC J01CA04 · GTIN 08936045123454" in shown
    assert "1.150 ₫ mỗi viên" in shown.replace("\u00a0", " ")
    assert value_of(added, "code") == ""  # a fresh form for the next drug
    again = add(client, csrf, submission)
    assert again.status_code == 200 and "không thêm hai lần" in text_of(again)
    drug = api(hospital, "/drugs/40.158.2")
    assert (drug["atc_code"], drug["gtin"], drug["price_amount"], drug["unit_name"], drug["reorder_level"]) == (
        "J01CA04", "0" + GTIN, 1150, "Viên", 300)
    assert [row["code"] for row in api(hospital, "/drugs?limit=1000")].count("40.158.2") == 1
    listed = client.get("/pharmacy/catalogue/list", headers=HTMX)
    assert re.search(r'<tr data-drug="40.158.2">.*?Amoxicilin 500 mg.*?J01CA04.*?08936045123454.*?1.150',
                     listed.get_data(as_text=True), re.S)


def test_a_scanned_datamatrix_or_a_prefixed_ean_gives_the_gtin(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    expires = clock.today() + timedelta(days=400)
    datamatrix = f"]d201{'0' + GTIN}17{expires:%y%m%d}10AMX2701\x1d21SN1"
    assert add(client, csrf, gtin=datamatrix).status_code == 200
    assert api(hospital, "/drugs/40.158.2")["gtin"] == "0" + GTIN
    other = "8936045123461"
    assert add(client, csrf, code="40.158.3", gtin="]E0" + other).status_code == 200
    assert api(hospital, "/drugs/40.158.3")["gtin"] == "0" + other


def test_bad_fields_come_back_in_the_form_marked_with_what_was_typed(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    refused = add(client, csrf, gtin="8936045123455", atc_code="J01C", price_amount="1,5", name="")
    shown = text_of(refused)
    assert refused.status_code == 422 and "Chưa thêm thuốc: hãy sửa các trường được đánh dấu (4)" in shown
    assert field_errors(refused) == {"gtin", "atc_code", "price_amount", "name"}
    assert "chữ số cuối là số kiểm tra" in shown and "Mã ATC đầy đủ có 7 ký tự" in shown
    assert "Gõ giá mỗi đơn vị bằng số đồng nguyên" in shown and "Ghi tên thuốc" in shown
    page = refused.get_data(as_text=True)
    assert re.search(r'id="drug-gtin"[^>]*aria-invalid="true"[^>]*autofocus', page)  # the first at fault, focused
    assert value_of(refused, "gtin") == "8936045123455" and value_of(refused, "price_amount") == "1,5"
    assert value_of(refused, "code") == "40.158.2" and value_of(refused, "registration_number") == "VD-27662-17"
    assert "drug-added" not in refused.headers.get("HX-Trigger", "")
    huge = add(client, csrf, price_amount="2.000.000.000", insurance_rate="150", reorder_level="-1")
    assert huge.status_code == 422 and field_errors(huge) == {"price_amount", "insurance_rate", "reorder_level"}
    bad_code = add(client, csrf, code="40 158")
    assert bad_code.status_code == 422 and field_errors(bad_code) == {"code"}
    no_id = post(client, csrf, "/pharmacy/drugs", **AMOXICILIN)
    assert no_id.status_code == 422 and "Biểu mẫu thiếu số lần gửi" in text_of(no_id)
    assert value_of(no_id, "code") == "40.158.2"
    plain = client.post("/pharmacy/drugs", data={**AMOXICILIN, "gtin": "1", "submission_id": str(uuid.uuid4())},
                        headers={"X-CSRF-Token": csrf})  # without htmx: the whole page, the form refused in it
    assert plain.status_code == 422 and "Danh mục thuốc, theo mã" in text_of(plain)
    assert field_errors(plain) == {"gtin"}
    assert client.get("/pharmacy/catalogue?cursor=nonsense").status_code == 422
    assert "40.158.2" not in [row["code"] for row in api(hospital, "/drugs?limit=1000")]


def test_a_duplicate_code_or_gtin_names_the_drug_that_has_it(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    same_code = add(client, csrf, code=SEEDED["code"])
    shown = text_of(same_code)
    assert same_code.status_code == 409 and field_errors(same_code) == {"code"}
    assert f"Mã thuốc {SEEDED['code']} đã có trong danh mục: Amoxicillin 500 mg" in shown
    same_gtin = add(client, csrf, gtin=SEEDED["gtin"])
    shown = text_of(same_gtin)
    assert same_gtin.status_code == 409 and field_errors(same_gtin) == {"gtin"}
    assert f"GTIN 0{SEEDED['gtin']} đã thuộc về Amoxicillin 500 mg (mã {SEEDED['code']})" in shown
    assert value_of(same_gtin, "name") == "Amoxicilin"


def test_the_catalogue_pages_by_code_fifty_at_a_time(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    for number in range(45):  # with the 11 seeded drugs: 56, two pages
        body = {**{name: value for name, value in AMOXICILIN.items() if value}, "code": f"ZZ.{number:03d}",
                "gtin": None, "atc_code": "J01CA04", "price_amount": 1150, "insurance_scope": 1,
                "insurance_rate": 100, "reorder_level": 0}
        assert hospital.client().post("/api/v1/pharmacy/drugs", json=body, headers=PHARMACIST).status_code == 201
    first = client.get("/pharmacy/catalogue").get_data(as_text=True)
    assert first.count("<tr data-drug=") == 50
    cursor = re.search(r'href="/pharmacy/catalogue\?cursor=([^"]+)" hx-get', first).group(1)
    second = client.get(f"/pharmacy/catalogue/list?cursor={cursor}", headers=HTMX).get_data(as_text=True)
    assert second.count("<tr data-drug=") == 6 and 'data-page="next"' not in second and "Trang đầu" in second
    assert 'data-drug="ZZ.044"' in second and 'data-drug="ZZ.044"' not in first


def received_lot(hospital, quantity: int = 200) -> dict:
    add_response = hospital.client().post("/api/v1/pharmacy/drugs", headers=PHARMACIST, json={
        **{name: value for name, value in AMOXICILIN.items() if value}, "atc_code": "J01CA04",
        "price_amount": 1150, "insurance_scope": 1, "insurance_rate": 100, "reorder_level": 300})
    assert add_response.status_code == 201
    expires = (clock.today() + timedelta(days=500)).isoformat()
    lot = hospital.client().post("/api/v1/pharmacy/drugs/40.158.2/lots", headers={
        **PHARMACIST, "Idempotency-Key": str(uuid.uuid4())}, json={
        "lot_number": "AMX2705D", "expires_on": expires, "quantity": quantity, "cost_amount": 890,
        "supplier": "Công ty CP Dược phẩm Domesco"})
    assert lot.status_code == 201
    return lot.get_json()


def counts_of(hospital, lot_id: int) -> list[dict]:
    return [entry for entry in api(hospital, "/drugs/40.158.2/ledger") if entry["lot_id"] == lot_id
            and entry["kind"] == "count"]


def test_a_count_shows_the_book_the_count_and_the_difference_and_a_double_submit_counts_once(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    lot = received_lot(hospital)
    panel = client.get(f"/pharmacy/stock/lots/{lot['id']}?focus=count", headers=HTMX)
    page = panel.get_data(as_text=True)
    assert panel.status_code == 200 and re.search(r'id="counted-quantity"[^>]*autofocus', page)
    assert "Số đếm được trên kệ (viên)" in text_of(panel) and 'data-outbox="Điều chỉnh tồn kho"' in page
    assert 'id="count-form"' in page and "data-outbox" not in page[page.index('id="count-form"'):][:400]
    submission = str(uuid.uuid4())
    form = {"counted_quantity": "196", "reason": "Kiểm kê định kỳ tháng 12/2026", "submission_id": submission}
    counted = post(client, csrf, f"/pharmacy/stock/lots/{lot['id']}/counts", **form)
    shown = text_of(counted)
    assert counted.status_code == 200 and counted.headers["HX-Trigger"] == "lot-changed"
    assert "Đã ghi kiểm kê lô AMX2705D. Có chênh lệch với sổ sách" in shown
    assert "Theo sổ sách 200 viên Đếm được 196 viên Chênh lệch -4 viên" in shown
    assert "196 viên trên kệ" in shown and re.search(r'data-kind="count" class="discrepancy"', counted.get_data(
        as_text=True))
    again = post(client, csrf, f"/pharmacy/stock/lots/{lot['id']}/counts", **form)  # a double submit, a resend
    assert again.status_code == 200 and "không kiểm kê hai lần" in text_of(again)
    assert "Theo sổ sách 200 viên Đếm được 196 viên" in text_of(again)  # the first answer, replayed
    assert len(counts_of(hospital, lot["id"])) == 1
    assert api(hospital, f"/lots/{lot['id']}")["quantity_on_hand"] == 196
    same = post(client, csrf, f"/pharmacy/stock/lots/{lot['id']}/counts", counted_quantity="196",
                reason="Kiểm kê lại", submission_id=str(uuid.uuid4()))
    assert same.status_code == 200 and "Khớp với sổ sách" in text_of(same) and "Chênh lệch 0 viên" in text_of(same)


def test_an_adjustment_takes_off_or_adds_with_its_reason(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    lot = received_lot(hospital)
    path = f"/pharmacy/stock/lots/{lot['id']}/adjustments"
    broken = post(client, csrf, path, reason="damaged", direction="remove", quantity="2", note="Vỡ 2 viên khi chia",
                  lot_number="AMX2705D", submission_id=str(uuid.uuid4()))
    shown = text_of(broken)
    assert broken.status_code == 200 and broken.headers["HX-Trigger"] == "lot-changed"
    assert "Đã ghi điều chỉnh lô AMX2705D: -2 viên (hư hỏng, đổ vỡ: Vỡ 2 viên khi chia). Trên kệ: 200 → 198 viên." \
        in shown
    found = post(client, csrf, path, reason="found", direction="add", quantity="5", note="",
                 submission_id=str(uuid.uuid4()))
    assert found.status_code == 200 and "+5 viên (tìm thấy (thừa so với sổ sách)). Trên kệ: 198 → 203 viên" in \
        text_of(found)
    assert api(hospital, f"/lots/{lot['id']}")["quantity_on_hand"] == 203
    card = [(e["kind"], e["quantity_change"]) for e in api(hospital, "/drugs/40.158.2/ledger")]
    assert card[:2] == [("adjustment", 5), ("adjustment", -2)]


def test_refused_counts_and_adjustments_are_told_in_the_lot_panel_never_a_500(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    lot = received_lot(hospital)

    def sent(kind: str, lot_id: int = lot["id"], **form):
        return post(client, csrf, f"/pharmacy/stock/lots/{lot_id}/{kind}", **{"submission_id": str(uuid.uuid4()),
                                                                              **form})

    unknown = sent("counts", 99999, counted_quantity="5", reason="Kiểm kê")
    assert unknown.status_code == 404 and "Không có lô 99999" in text_of(unknown)
    assert unknown.headers["HX-Retarget"] == "#lot-outcome"
    unknown_adjust = sent("adjustments", 99999, reason="lost", direction="remove", quantity="1")
    assert unknown_adjust.status_code == 404 and "Không có lô 99999" in text_of(unknown_adjust)
    decimal = sent("counts", counted_quantity="1,5", reason="Kiểm kê")
    assert decimal.status_code == 422
    assert "Chưa ghi được cho lô AMX2705D: Gõ số lượng đếm được trên kệ" in text_of(decimal)
    no_reason = sent("counts", counted_quantity="10", reason="")
    assert no_reason.status_code == 422 and "Ghi lý do" in text_of(no_reason)
    too_many = sent("adjustments", reason="destroyed", direction="remove", quantity="500")
    assert too_many.status_code == 409
    assert "Chưa ghi được cho lô AMX2705D: trên kệ chỉ còn 200 viên, không bớt được 500" in text_of(too_many)
    not_a_number = sent("adjustments", reason="lost", direction="remove", quantity="mười")
    assert not_a_number.status_code == 422 and "Gõ số đơn vị thêm hoặc bớt" in text_of(not_a_number)
    bad_reason = sent("adjustments", reason="stolen", direction="remove", quantity="1")
    assert bad_reason.status_code == 422 and "Chọn một lý do trong danh sách" in text_of(bad_reason)
    no_id = post(client, csrf, f"/pharmacy/stock/lots/{lot['id']}/counts", counted_quantity="5", reason="x")
    assert no_id.status_code == 422 and "Biểu mẫu thiếu số lần gửi" in text_of(no_id)
    assert client.get("/pharmacy/stock/lots/99999", headers=HTMX).status_code == 404
    assert api(hospital, f"/lots/{lot['id']}")["quantity_on_hand"] == 200 and counts_of(hospital, lot["id"]) == []


def test_a_lot_opens_as_a_whole_page_and_a_plain_post_comes_back_to_it(hospital):
    client, csrf = signed_in_pharmacist(hospital)
    lot = received_lot(hospital)
    page = client.get(f"/pharmacy/stock/lots/{lot['id']}")
    shown = text_of(page)
    assert page.status_code == 200 and "Tồn kho và thu hồi" in shown and "Thẻ kho lô AMX2705D" in shown
    assert "nhập từ Công ty CP Dược phẩm Domesco" in shown and "Received from" not in shown  # the receipt's row
    assert 'data-drug="40.158.2"' in page.get_data(as_text=True)
    plain = client.post(f"/pharmacy/stock/lots/{lot['id']}/counts", data={
        "counted_quantity": "199", "reason": "Kiểm kê", "submission_id": str(uuid.uuid4()), "csrf_token": csrf})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/pharmacy/stock/lots/{lot['id']}")
    assert lots_of(hospital, "40.158.2")["AMX2705D"]["quantity_on_hand"] == 199


def test_a_pack_not_in_the_catalogue_at_receiving_leads_to_the_form_with_its_gtin(hospital):
    client, _csrf = signed_in_pharmacist(hospital)
    expires = clock.today() + timedelta(days=400)
    unknown = client.get("/pharmacy/receive/scan", query_string={"code": f"010{GTIN}17{expires:%y%m%d}10X1"},
                         headers=HTMX)
    link = re.search(r'<a href="([^"]+)" data-add-drug>', unknown.get_data(as_text=True)).group(1)
    assert unknown.status_code == 404 and link == f"/pharmacy/catalogue?gtin=0{GTIN}"
    form = client.get(link).get_data(as_text=True)
    assert f'name="gtin" value="0{GTIN}"' in form and re.search(r'id="drug-code"[^>]*autofocus', form)
