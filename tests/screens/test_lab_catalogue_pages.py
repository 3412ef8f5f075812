"""The lab head's catalogue over HTTP (fast): reagents, tests and analyzers listed by code and paged, new ones added
(a new test goes on to its recipe), refusals shown above the form with what was typed kept, never a 500."""

import re
import uuid

import pytest

from tests.screens.conftest import csrf_of, sign_in
from tests.support import bearer

HEAD = bearer("lab_head")

CALCIUM = {"code": "CA-R1", "name": "Calcium Arsenazo III (OSR60117)", "manufacturer": "Beckman Coulter",
           "base_unit": "uL", "reorder_level": "12.000", "unit_cost_amount": "7", "stability_days_after_opening": "30"}
CALCIUM_TEST = {"code": "CA", "name": "Định lượng Calci toàn phần [Máu]", "loinc": "17861-6",
                "service_code": "23.0029.1473", "price_amount": "12.900", "insurance_price_amount": "12.900",
                "insurance_covered": "on", "unit_name": "Lần"}
COBAS_E411 = {"code": "COBAS-E411", "name": "Máy miễn dịch Roche Cobas e411", "manufacturer": "Roche Diagnostics"}


@pytest.fixture
def head(hospital):
    """A test client signed in as the lab head, and its CSRF token."""
    client = hospital.client()
    sign_in(client, "labhead")
    return client, csrf_of(client, "/lab/catalogue/reagents")


def add(client, csrf: str, kind: str, **form):
    form.setdefault("submission_id", str(uuid.uuid4()))
    return client.post(f"/lab/catalogue/{kind}", data={"csrf_token": csrf, **form})


def text(response) -> str:
    return response.get_data(as_text=True)


def api(hospital, path: str):
    return hospital.client().get(path, headers=HEAD)


def test_the_catalogue_lists_reagents_tests_and_analyzers_by_code(head):
    client, _csrf = head
    start = client.get("/lab/catalogue")
    assert start.status_code == 302 and start.headers["Location"].endswith("/lab/catalogue/reagents")
    reagents = text(client.get("/lab/catalogue/reagents"))
    assert "Danh mục" in reagents and 'data-code="CBC-DCL"' in reagents and "Cellpack DCL 20 L" in reagents
    assert reagents.index('data-code="ALT-R1"') < reagents.index('data-code="UREA-R1"')
    assert 'aria-current="page">Danh mục</a>' in reagents  # the lab head's menu leads here
    tests = text(client.get("/lab/catalogue/tests"))
    assert "23.0075.1494" in tests and "2345-7" in tests and "21.500\u00a0₫" in tests and "Định lượng Glucose" in tests
    analyzers = text(client.get("/lab/catalogue/analyzers"))
    assert "Máy huyết học Sysmex XN-1000" in analyzers and 'data-code="COBAS-C311"' in analyzers
    assert client.get("/lab/catalogue/drugs").status_code == 404


def test_a_reagent_is_added_and_a_resubmitted_form_adds_it_once(head, hospital):
    client, csrf = head
    key = str(uuid.uuid4())
    first = add(client, csrf, "reagents", submission_id=key, **CALCIUM)
    html = text(first)
    assert first.status_code == 200 and "Đã thêm hóa chất CA-R1 vào danh mục" in html
    assert '<tr data-code="CA-R1" class="added">' in html and "/lab/reagents/CA-R1" in html  # on to its first lot
    again = add(client, csrf, "reagents", submission_id=key, **CALCIUM)
    assert again.status_code == 200 and "chỉ thêm một lần" in text(again)
    reagent = api(hospital, "/api/v1/lab/reagents/CA-R1").get_json()
    assert (reagent["reorder_level"], reagent["unit_cost_amount"], reagent["stability_days_after_opening"],
            reagent["requires_qc_release"], reagent["on_hand"]) == (12_000, 7, 30, False, 0)


def test_a_new_test_goes_on_to_its_recipe(head, hospital):
    client, csrf = head
    added = add(client, csrf, "tests", **CALCIUM_TEST)
    assert added.status_code == 303 and added.headers["Location"].endswith("/lab/recipes/CA?added=1")
    recipe = text(client.get("/lab/recipes/CA?added=1"))
    assert "Đã thêm xét nghiệm CA vào danh mục" in recipe and "chưa có công thức" in recipe
    test = api(hospital, "/api/v1/lab/tests/CA").get_json()
    assert (test["loinc"], test["service_code"], test["price_amount"], test["insurance_price_amount"],
            test["insurance_covered"], test["unit_name"], test["recipe"]) == (
        "17861-6", "23.0029.1473", 12_900, 12_900, True, "Lần", [])
    listed = text(client.get("/lab/catalogue/tests"))
    assert re.search(r'data-code="CA".*?chưa có công thức', listed, re.S)


def test_an_analyzer_is_added(head, hospital):
    client, csrf = head
    added = add(client, csrf, "analyzers", **COBAS_E411)
    assert added.status_code == 200 and "Đã thêm máy COBAS-E411" in text(added)
    codes = [a["code"] for a in api(hospital, "/api/v1/lab/analyzers").get_json()]
    assert "COBAS-E411" in codes


@pytest.mark.parametrize("kind, form", [("reagents", {**CALCIUM, "code": "GLU-R1"}),
                                        ("tests", {**CALCIUM_TEST, "code": "GLU"}),
                                        ("analyzers", {**COBAS_E411, "code": "AU480"})])
def test_a_code_already_in_the_catalogue_is_refused_clearly_with_the_form_kept(head, kind, form):
    client, csrf = head
    refused = add(client, csrf, kind, **form)
    html = text(refused)
    assert refused.status_code == 409 and 'role="alert"' in html and "đã có" in html and "chọn mã khác" in html
    assert re.search(rf'id="{kind}-code" name="code" value="{form["code"]}"[^>]*aria-invalid="true"[^>]*autofocus',
                     html)
    assert f'value="{form["name"]}"' in html  # everything typed is still there


@pytest.mark.parametrize("kind, changes, fields", [
    ("reagents", {"code": "CA R1"}, {"code"}),
    ("reagents", {"code": "", "name": "", "base_unit": ""}, {"code", "name", "base_unit"}),
    ("reagents", {"reorder_level": "mười", "unit_cost_amount": "1,5"}, {"reorder_level", "unit_cost_amount"}),
    ("reagents", {"stability_days_after_opening": "0"}, {"stability_days_after_opening"}),
    ("reagents", {"reorder_level": "99999999999999999999"}, {"reorder_level"}),
    ("tests", {"loinc": "17861"}, {"loinc"}),
    ("tests", {"price_amount": "12.900,5", "insurance_price_amount": "-1"}, {"price_amount", "insurance_price_amount"}),
    ("tests", {"price_amount": "", "service_code": ""}, {"price_amount", "service_code"}),
    ("analyzers", {"code": "AU 680", "name": "   "}, {"code", "name"}),
])
def test_bad_input_is_refused_naming_the_fields_in_vietnamese_and_keeps_what_was_typed(head, hospital, kind, changes,
                                                                                     fields):
    client, csrf = head
    form = {**{"reagents": CALCIUM, "tests": CALCIUM_TEST, "analyzers": COBAS_E411}[kind], **changes}
    refused = add(client, csrf, kind, **form)
    html = text(refused)
    assert refused.status_code == 422 and "Một số ô chưa được điền đúng" in html
    invalid = set(re.findall(rf'id="{kind}-([a-z_]+)"[^>]*aria-invalid="true"', html))
    assert invalid == fields
    assert html.count("Chưa được chấp nhận:") == len(fields)
    for name, value in changes.items():
        assert f'name="{name}" value="{value}"' in html
    listed = {row["code"] for row in api(hospital, f"/api/v1/lab/{kind}").get_json()}
    assert form["code"] not in listed and form["code"].strip() not in listed


def test_the_lists_are_paged_by_the_apis_cursor(head, monkeypatch):
    from gateway.screens.lab import catalogue

    client, _csrf = head
    monkeypatch.setattr(catalogue, "PAGE_SIZE", 4)
    first = text(client.get("/lab/catalogue/reagents"))
    assert re.findall(r'<tr data-code="([^"]+)"', first) == ["ALT-R1", "AST-R1", "CBC-DCL", "CBC-WDF"]
    more = re.search(r'hx-get="(/lab/catalogue/reagents/rows\?cursor=[^"]+)"', first).group(1)
    page = client.get(more.replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert re.findall(r'<tr data-code="([^"]+)"', text(page)) == ["CREA-R1", "CRP-R1", "GLU-R1", "HBA1C-KIT"]
    last = re.search(r'hx-get="(/lab/catalogue/reagents/rows\?cursor=[^"]+)"', text(page)).group(1)
    rest = text(client.get(last, headers={"HX-Request": "true"}))
    assert re.findall(r'<tr data-code="([^"]+)"', rest) == ["UREA-R1"] and "data-more" not in rest
    plain = client.get(last)  # no script: the page itself at that cursor
    assert plain.status_code == 303 and "/lab/catalogue/reagents?cursor=" in plain.headers["Location"]
    assert "UREA-R1" in text(client.get(plain.headers["Location"]))
    assert client.get("/lab/catalogue/reagents?cursor=not-a-cursor").status_code == 422


def test_only_the_lab_head_and_admin_add_to_the_catalogue(hospital):
    technician = hospital.client()
    sign_in(technician, "labtech")
    csrf = csrf_of(technician, "/bench/")
    assert technician.get("/lab/catalogue/reagents").status_code == 403
    assert add(technician, csrf, "reagents", **CALCIUM).status_code == 403
    admin = hospital.client()
    sign_in(admin, "admin")
    added = add(admin, csrf_of(admin, "/lab/catalogue/reagents"), "analyzers", **COBAS_E411)
    assert added.status_code == 200 and "COBAS-E411" in text(added)
    forged = hospital.client()
    sign_in(forged, "labhead")
    assert forged.post("/lab/catalogue/analyzers", data=COBAS_E411).status_code == 403  # no CSRF token


def test_the_catalogue_pages_have_labelled_fields_and_switch_to_english(head):
    client, _csrf = head
    for kind in ("reagents", "tests", "analyzers"):
        html = text(client.get(f"/lab/catalogue/{kind}"))
        ids = set(re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html))
        labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
        assert ids and ids <= labelled, (kind, ids - labelled)
        assert html.count('class="required"') >= 2
    client.get("/language/en")
    assert "Add a test" in text(client.get("/lab/catalogue/tests"))


def test_a_lab_that_does_not_answer_keeps_the_form_as_typed(head, monkeypatch):
    from gateway.screens.api import Refusal
    from gateway.screens.lab import catalogue

    class Down:
        def post(self, *args, **kwargs):
            raise Refusal(503, {"code": "UPSTREAM_UNAVAILABLE", "detail": "lab_service is not answering"})

        page = post

    client, csrf = head
    monkeypatch.setattr(catalogue, "api", Down)
    refused = add(client, csrf, "tests", **CALCIUM_TEST)
    html = text(refused)
    assert refused.status_code == 503 and "không phản hồi" in html and "Không đọc được danh sách" in html
    assert 'value="Định lượng Calci toàn phần [Máu]"' in html and 'value="17861-6"' in html



def test_a_lab_with_no_reagent_yet_is_pointed_to_the_catalogue(head, monkeypatch):
    from gateway.screens.lab import stock

    client, _csrf = head
    monkeypatch.setattr(stock, "reagents_with_stock", lambda: [])
    home = text(client.get("/lab/"))
    assert "Danh mục chưa có hóa chất nào" in home and 'href="/lab/catalogue/reagents"' in home
