"""Reception finds a patient by CCCD, by name without accents, by phone or by BHYT card, one page at a time."""

from importlib import import_module

import pytest

from gateway.models import Patient, db
from gateway.patients.search import fold
from tests.gateway.conftest import CARD_80, NGUYEN_VAN_AN, TRAN_THI_BICH, add_card, register
from tests.support import bearer

CASHIER = bearer("cashier")
NGUYEN_VAN_ANH = {"full_name": "Nguyễn Văn Ánh", "birth_date": "1990-06-01", "sex": "male", "cccd": "001090054321",
                  "phone": "+84987654321", "address": "3 Phố Huế, Hai Bà Trưng, Hà Nội"}
DANG_DUC = {"full_name": "Đặng Đức Thắng", "birth_date": "1979-09-09", "sex": "male", "cccd": "036079000777",
            "phone": "0977555111", "address": "18 Trần Hưng Đạo, TP. Nam Định"}


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [patient["full_name"] for patient in response.get_json()]


def search(client, **query):
    return client.get("/api/v1/patients", query_string=query, headers=CASHIER)


@pytest.mark.parametrize("text,folded", [
    ("Nguyễn Văn An", "nguyen van an"), ("ĐẶNG  Đức-Thắng", "dang duc thang"), ("Lê Thị Thu Hà", "le thi thu ha"),
    ("Nguyễn Văn Ánh", "nguyen van anh"), ("  ", ""), ("Ngô Quý Tỵ", "ngo quy ty"),
])
def test_a_name_folds_to_lower_case_without_accents(text, folded):
    assert fold(text) == folded


def test_an_unaccented_name_finds_the_accented_patient(gateway):
    register(gateway)
    register(gateway, NGUYEN_VAN_ANH)
    register(gateway, TRAN_THI_BICH)
    register(gateway, DANG_DUC)
    assert names(search(gateway, name="nguyen van an")) == ["Nguyễn Văn Ánh", "Nguyễn Văn An"]  # a prefix
    assert names(search(gateway, name="NGUYEN VAN ANH")) == ["Nguyễn Văn Ánh"]
    assert names(search(gateway, name="Nguyễn Văn An")) == ["Nguyễn Văn Ánh", "Nguyễn Văn An"]
    assert names(search(gateway, name="tran thi")) == ["Trần Thị Bích"]
    assert names(search(gateway, name="dang duc")) == ["Đặng Đức Thắng"]  # đ folds to d
    assert names(search(gateway, name="bich")) == ["Trần Thị Bích"]  # the start of a later word
    assert names(search(gateway, name="van")) == ["Nguyễn Văn Ánh", "Nguyễn Văn An"]
    assert names(search(gateway, name="an")) == ["Nguyễn Văn Ánh", "Nguyễn Văn An"]
    assert names(search(gateway, name="ich")) == []  # not the middle of a word
    assert names(search(gateway, name="100%")) == []  # no wildcard gets through


def test_phone_card_and_cccd_each_find_their_patient(gateway):
    an = register(gateway)
    anh = register(gateway, NGUYEN_VAN_ANH)
    add_card(gateway, an["id"], CARD_80)
    assert names(search(gateway, phone="0912345678")) == ["Nguyễn Văn An"]
    assert names(search(gateway, phone="+84912345678")) == ["Nguyễn Văn An"]
    assert names(search(gateway, phone="0987654321")) == ["Nguyễn Văn Ánh"]  # stored as +84...
    assert names(search(gateway, card="DN4010123456789")) == ["Nguyễn Văn An"]
    assert names(search(gateway, card="dn4010123456789")) == ["Nguyễn Văn An"]
    assert names(search(gateway, card="0123456789")) == ["Nguyễn Văn An"]  # the social-insurance number
    assert names(search(gateway, card="GD4790000000000")) == []
    [found] = search(gateway, cccd=anh["cccd"]).get_json()
    assert found["id"] == anh["id"] and found["current_coverage"] is None
    [with_card] = search(gateway, name="nguyen van an ").get_json()[1:]
    assert with_card["current_coverage"]["card_number"] == "DN4010123456789"


def test_search_results_come_a_page_at_a_time_newest_first(gateway):
    for serial in range(5):
        register(gateway, {**NGUYEN_VAN_AN, "cccd": f"00108801234{serial}", "full_name": f"Nguyễn Văn An {serial}"})
    register(gateway, TRAN_THI_BICH)
    first = search(gateway, name="nguyen", limit=2)
    assert names(first) == ["Nguyễn Văn An 4", "Nguyễn Văn An 3"]
    seen, link = names(first), first.headers["Link"]
    while link:
        path = link[1:link.index(">")]
        following = gateway.get(path, headers=CASHIER)
        seen += names(following)
        link = following.headers.get("Link")
    assert seen == [f"Nguyễn Văn An {serial}" for serial in (4, 3, 2, 1, 0)]
    assert "Link" not in search(gateway, name="nguyen", limit=5).headers


@pytest.mark.parametrize("query", [
    {}, {"cccd": "12345"}, {"cccd": "001088012345", "name": "an"}, {"name": ""}, {"name": "—  !"},
    {"name": "a" * 101}, {"name": "an\x00"}, {"phone": "12345"}, {"phone": "0912345678x"},
    {"card": "DN401012345678"}, {"card": "DN6010123456789"}, {"card": "123"}, {"name": "an", "limit": "0"},
    {"name": "an", "limit": "101"}, {"name": "an", "limit": "x"}, {"name": "an", "cursor": "not-a-cursor"},
    {"name": "an", "cursor": "ImEi"},  # a text cursor on a list ordered by id
])
def test_a_bad_search_is_a_422_problem(gateway, query):
    response = search(gateway, **query)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "VALIDATION_FAILED"
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_a_search_writes_one_read_audit_line_per_patient_it_shows(gateway):
    an = register(gateway)
    anh = register(gateway, NGUYEN_VAN_ANH)
    search(gateway, name="nguyen van")
    search(gateway, name="nobody")
    entries = gateway.get("/api/v1/audit", headers=bearer("admin")).get_json()
    reads = [(e["patient_id"], e["action"]) for e in entries if e["action"] == "GET /api/v1/patients"]
    assert sorted(reads, key=str) == sorted([(an["id"], "GET /api/v1/patients"), (anh["id"], "GET /api/v1/patients"),
                                             (None, "GET /api/v1/patients")], key=str)
    assert all("nguyen" not in e["action"] for e in entries)  # the query string stays out of the log


def test_the_migration_fills_the_folded_name_of_patients_already_registered(gateway_app):
    with gateway_app.app_context():
        Patient.create(full_name="Phạm Thị Dung", birth_date="2021-05-09", sex="female", cccd="001321004567")
        assert Patient.get(Patient.cccd == "001321004567").search_name == ""
        import_module("gateway.migrations.005_patient_search_name")._fill_search_names(db.obj)
        assert Patient.get(Patient.cccd == "001321004567").search_name == "pham thi dung"
    assert names(search(gateway_app.test_client(), name="pham thi dung")) == ["Phạm Thị Dung"]
