"""Every list of the gateway pages with a cursor: walking all pages gives every row exactly once, in the list's
order (lists ordered by a repeating column, a name or a day, go on by id); filters hold on every page."""

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.models import CheckIn, Coverage, Encounter, Patient, Practitioner, User
from tests.gateway.conftest import NGUYEN_VAN_AN, TRAN_THI_BICH, glucose_charge, open_visit, register, send_charge
from tests.paging import walk_pages
from tests.support import bearer, service_headers

FINANCE, ADMIN, CASHIER = bearer("finance"), bearer("admin"), bearer("cashier")
SURNAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Cường", "Nguyễn Văn An", "Phạm Thị Dung", "Nguyễn Văn An",
            "Hoàng Văn Em", "Trần Thị Bích"]  # names repeat: the list goes on by id within a name


def test_practitioners_page_by_name_then_id_with_repeated_names(gateway_app, gateway):
    with gateway_app.app_context():
        for n, name in enumerate(SURNAMES):
            Practitioner.create(full_name=name, licence_number=f"{n:06d}/HNO-CCHN",
                                department="K01" if n % 2 else "K26", active=n != 3)
    rows = walk_pages(gateway, "/api/v1/practitioners", CASHIER, page_size=3)
    assert len(rows) == 8 and len({row["id"] for row in rows}) == 8
    assert [(row["full_name"], int(row["id"])) for row in rows] == sorted(
        (row["full_name"], int(row["id"])) for row in rows)
    active_k01 = walk_pages(gateway, "/api/v1/practitioners", CASHIER, page_size=2, department="K01", active="true")
    assert len(active_k01) == 3 and {row["department"] for row in active_k01} == {"K01"}


def test_check_ins_page_newest_first_in_one_state(gateway_app, gateway):
    with gateway_app.app_context():
        patient = Patient.create(full_name="Nguyễn Văn An", birth_date=date(1988, 3, 14), sex="male",
                                 cccd="001088012345")
        for n in range(7):
            visit = Encounter.create(patient=patient, kind="outpatient", department="K01", status="closed")
            CheckIn.create(encounter=visit, payload="<GIAMDINHHS/>", state="sent" if n % 3 else "pending")
    rows = walk_pages(gateway, "/api/v1/check-ins", FINANCE, page_size=2)
    assert len(rows) == 7 and [row["id"] for row in rows] == sorted((row["id"] for row in rows), key=int,
                                                                       reverse=True)
    pending = walk_pages(gateway, "/api/v1/check-ins", FINANCE, page_size=1, state="pending")
    assert len(pending) == 3 and {row["state"] for row in pending} == {"pending"}


def test_a_patients_cards_page_latest_first_even_on_the_same_day(gateway_app, gateway):
    patient = register(gateway)
    with gateway_app.app_context():
        for n in range(6):
            start = date(2020 + n // 2, 1, 1)  # two cards start on each first of January
            Coverage.create(patient=int(patient["id"]), card_number=f"DN40101234567{n:02d}",
                            insurance_number=f"01234567{n:02d}", registered_facility="01001", valid_from=start,
                            valid_to=date(start.year, 12, 31) - timedelta(days=n % 2), benefit_level=80)
    rows = walk_pages(gateway, f"/api/v1/patients/{patient['id']}/coverages", FINANCE, page_size=4)
    assert [row["card_number"] for row in rows] == [f"DN40101234567{n:02d}" for n in (5, 4, 3, 2, 1, 0)]


def test_the_users_page_by_username(gateway_app, gateway):
    with gateway_app.app_context():
        for n in range(11):
            User.create(username=f"nv{n:02d}", full_name=f"Nhân viên {n}", role="cashier" if n % 2 else "lab_tech",
                        password_hash="-", active=n != 4)
    rows = walk_pages(gateway, "/api/v1/users", ADMIN, page_size=4)
    assert [row["username"] for row in rows] == [f"nv{n:02d}" for n in range(11)]
    cashiers = walk_pages(gateway, "/api/v1/users", ADMIN, page_size=2, role="cashier", active="true")
    assert [row["username"] for row in cashiers] == [f"nv{n:02d}" for n in (1, 3, 5, 7, 9)]


def test_charge_reversals_filter_by_visit_on_every_page(gateway):
    visits = []
    for n, person in enumerate((NGUYEN_VAN_AN, TRAN_THI_BICH)):
        patient = register(gateway, person)
        visit = open_visit(gateway, patient["id"])
        visits.append(visit)
        for run in range(5):
            run_id = n * 100 + run
            charge = glucose_charge(visit["id"], patient["id"], run_id=run_id)
            assert send_charge(gateway, charge).status_code == 201
            void = {"key": f"{charge['key']}:void", "charge_key": charge["key"], "source": "lab",
                    "encounter_id": visit["id"], "quantity": 1, "amount": 21_500,
                    "reason": "Mẫu máu bị vỡ hồng cầu, chạy lại", "occurred_at": datetime.now(UTC).isoformat()}
            assert gateway.post("/internal/charge-reversals", json=void,
                                headers=service_headers("lab_service")).status_code == 201
    first = walk_pages(gateway, "/api/v1/charge-reversals", FINANCE, page_size=2, encounter_id=visits[0]["id"])
    assert [row["charge_key"] for row in first] == [f"lab:test-run:{run}" for run in (4, 3, 2, 1, 0)]
    everything = walk_pages(gateway, "/api/v1/charge-reversals", FINANCE, page_size=3)
    assert len(everything) == 10 and len({row["id"] for row in everything}) == 10
    assert gateway.get("/api/v1/charge-reversals?encounter_id=999999", headers=FINANCE).get_json() == []


@pytest.mark.parametrize("path", ["/api/v1/practitioners", "/api/v1/check-ins", "/api/v1/users"])
def test_a_cursor_of_another_shape_is_a_422(gateway, path):
    from common.paging import encode_cursor

    for cursor in ("not-a-cursor", encode_cursor(["Nguyễn", "x"]), encode_cursor(True)):
        response = gateway.get(f"{path}?cursor={cursor}", headers=ADMIN)
        assert response.status_code == 422, (path, cursor, response.get_json())
