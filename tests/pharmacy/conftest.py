"""Pharmacy fixtures: the service app on this run's database, and helpers that stock it through its API."""

import json
import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest

from common import clock
from seeds.pharmacy_service import DRUGS
from tests.support import bearer

PHARMACIST = bearer("pharmacist", ttl=6 * 3600)  # built once at import: outlive a long run
# Children before parents: SQLite enforces the foreign keys while the shared fixture empties tables by name.
PHARMACY_TABLES_CHILD_FIRST = ("pharmacy_alert", "return_line", "drug_return", "stock_entry", "dispense_lot_pick",
                               "dispense_line", "dispense", "prescription_line", "prescription", "recall",
                               "drug_lot", "drug", "outbox_message", "idempotency_record")


def _empty_sqlite_pharmacy(url: str) -> None:
    with closing(sqlite3.connect(url[len("sqlite:///"):])) as conn, conn:
        for table in PHARMACY_TABLES_CHILD_FIRST:
            conn.execute(f'DELETE FROM "{table}"')


@pytest.fixture(autouse=True)
def pharmacy_tables_emptied_child_first(engine, database_urls):
    """On SQLite, empty the pharmacy's tables child-first before and after each test."""
    if engine == "sqlite":
        _empty_sqlite_pharmacy(database_urls["pharmacy_service"])
    yield
    if engine == "sqlite":
        _empty_sqlite_pharmacy(database_urls["pharmacy_service"])


def days_from_today(days: int) -> str:
    """Return the ISO date `days` after today at the hospital."""
    return (clock.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def pharmacy_app(make_app):
    return make_app("pharmacy_service")


@pytest.fixture
def gateway(make_app, live_server):
    """A live gateway that receives the pharmacy's charges; returns its test client for the cashier's view."""
    app = make_app("gateway")
    live_server(app)
    return app.test_client()


def charges_of(gateway, encounter_id: str) -> list[dict]:
    response = gateway.get(f"/api/v1/charges?encounter_id={encounter_id}", headers=bearer("cashier"))
    assert response.status_code == 200
    return sorted(response.get_json(), key=lambda charge: charge["id"])


@pytest.fixture
def pharmacy(pharmacy_app):
    """A test client of the pharmacy service."""
    return pharmacy_app.test_client()


def add_drug(client, name: str, **changes) -> dict:
    """Put one of the formulary drugs (seeds.pharmacy_service.DRUGS) in the catalogue."""
    response = client.post("/api/v1/pharmacy/drugs", json={**DRUGS[name], **changes}, headers=PHARMACIST)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def receive(client, code: str, lot_number: str, expires_in_days: int, quantity: int, cost_amount: int = 800,
            supplier: str = "Công ty CP Dược Hậu Giang") -> dict:
    """Receive a lot of `quantity` base units expiring `expires_in_days` from today."""
    body = {"lot_number": lot_number, "expires_on": days_from_today(expires_in_days), "quantity": quantity,
            "cost_amount": cost_amount, "supplier": supplier}
    response = client.post(f"/api/v1/pharmacy/drugs/{code}/lots", json=body, headers=PHARMACIST)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def prescribe(client, lines: list[tuple[str, int]], encounter_id: str = "ENC-2026-000123",
              patient_id: str = "BN-0001024") -> dict:
    """Record a prescription of (drug code, quantity) lines for a visit."""
    body = {"encounter_id": encounter_id, "patient_id": patient_id, "prescriber": "BS. Nguyễn Văn Hùng",
            "lines": [{"drug_code": code, "quantity": quantity, "instructions": "Uống sau ăn, ngày 3 lần"}
                      for code, quantity in lines]}
    response = client.post("/api/v1/pharmacy/prescriptions", json=body, headers=PHARMACIST)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def dispense(client, prescription: dict, quantities: list[int] | None = None, headers: dict | None = None):
    """Dispense a prescription's lines (all of each by default); return the raw response."""
    lines = [{"line_id": line["id"], "quantity": quantity} for line, quantity in
             zip(prescription["lines"], quantities or [line["quantity"] for line in prescription["lines"]],
                 strict=True) if quantity]
    return client.post(f"/api/v1/pharmacy/prescriptions/{prescription['id']}/dispenses", json={"lines": lines},
                       headers={**PHARMACIST, **(headers or {})})


def lots_on_hand(client, code: str) -> dict[str, int]:
    """Return {lot_number: shelf quantity} of a drug as the pharmacist sees it."""
    drug = client.get(f"/api/v1/pharmacy/drugs/{code}", headers=PHARMACIST).get_json()
    return {lot["lot_number"]: lot["quantity_on_hand"] for lot in drug["lots"]}


def let_lot_expire(app, lot_id: int, days_ago: int = 1) -> None:
    """Make time pass for a lot: its expiry date becomes `days_ago` days before today."""
    from pharmacy_service.models import DrugLot

    with app.app_context():
        DrugLot.update(expires_on=clock.today() - timedelta(days=days_ago)).where(DrugLot.id == lot_id).execute()


def pending_events(client, event_type: str) -> list[dict]:
    """Return the payloads of the pharmacy's outbox messages of one type, oldest first."""
    from pharmacy_service.models import OutboxMessage

    with client.application.app_context():
        rows = OutboxMessage.select().where(OutboxMessage.event_type == event_type).order_by(OutboxMessage.id)
        return [json.loads(row.payload) for row in rows]
