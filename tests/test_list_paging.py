"""Every list of every service pages with a cursor: walking from the first page to the last, two rows at a time,
gives exactly the rows of one big page, each once, in the same order, filters included. The lists are read from
each service's OpenAPI document, so a list added later is walked too (and one without a cursor fails)."""

import uuid

import pytest

from seeds import seed_service
from tests.paging import walk_pages
from tests.support import SERVICES, bearer

ADMIN = bearer("admin")  # the admin may read every list
# Lists that answer one object's parts whole, not a table (docs/decisions.md, "Screens: admin and paging"), and the
# patient search, which pages but needs a criterion (tests/gateway/test_patient_search.py walks it).
WHOLE = {"/api/v1/admin/outbox", "/api/v1/patients", "/api/v1/pharmacy/lots/{lot_id}/recipients",
         "/api/v1/billing/invoices/{invoice_id}/other-funding", "/internal/charge-revenue"}
# Lists under a path parameter, walked for one seeded parent; their walk needs at least two pages.
PARENTS = {"/api/v1/lab/reagents/{code}/ledger": "/api/v1/lab/reagents/GLU-R1/ledger",
           "/api/v1/pharmacy/drugs/{code}/ledger": None}  # the pharmacy's first seeded drug


def list_paths(app) -> list[tuple[str, bool]]:
    """Every GET of the service's document answering a JSON array (or a stock card), and whether it takes a cursor."""
    spec = app.test_client().get("/openapi.json").get_json()
    found = []
    for path, operations in spec["paths"].items():
        operation = operations.get("get")
        if not operation:
            continue
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array" or "limit" in names:
            found.append((path, "cursor" in names))
    return sorted(found)


@pytest.fixture
def seeded(make_app):
    """Each service on this run's database with the demo data, and some work done on it."""
    apps = {}
    for service in SERVICES:
        app = apps[service] = make_app(service)
        with app.app_context():
            seed_service(service)
    lab = apps["lab_service"].test_client()
    for n in range(5):  # runs, and their consumption rows on the stock card
        response = lab.post("/api/v1/lab/test-runs", json={"encounter_id": str(900 + n), "patient_id": str(800 + n),
                                                            "test_code": "GLU", "analyzer_code": "AU480"},
                            headers={**bearer("lab_tech"), "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 201, response.get_json()
    return apps


@pytest.mark.parametrize("service", SERVICES)
def test_every_list_walks_to_its_last_page_giving_each_row_once(seeded, service):
    app = seeded[service]
    client = app.test_client()
    walked = 0
    for path, has_cursor in list_paths(app):
        if path in WHOLE:
            continue
        assert has_cursor, f"{path} takes no cursor: its older rows cannot be reached"
        if "{" in path:
            path = PARENTS.get(path) or first_parent(client, path)
            if path is None:
                continue  # nothing in the demo data to list under (a bill's parts: tests/billing walk them)
        whole = client.get(f"{path}?limit=1000", headers=ADMIN)
        assert whole.status_code == 200, (path, whole.get_json())
        assert "X-Next-Cursor" not in whole.headers
        rows = rows_of(whole.get_json())
        walk = walk_pages(client, path, ADMIN, page_size=1 if path.endswith("/ledger") else 2)
        if path.endswith("/ledger") and isinstance(whole.get_json(), dict):  # a stock card: each page oldest first
            walk = sorted(walk, key=lambda row: row["id"])
        assert walk == rows, path
        walked += len(rows) > 2  # lists with rows enough for several pages
    assert walked >= {"gateway": 1, "lab_service": 6, "pharmacy_service": 2, "billing_service": 1}[service]


def first_parent(client, path: str) -> str:
    if path == "/api/v1/pharmacy/drugs/{code}/ledger":
        code = client.get("/api/v1/pharmacy/drugs?limit=1", headers=ADMIN).get_json()[0]["code"]
        return f"/api/v1/pharmacy/drugs/{code}/ledger"
    if path == "/api/v1/patients/{patient_id}/coverages":
        patient = client.get("/api/v1/encounters?limit=1", headers=ADMIN).get_json()[0]["patient_id"]
        return f"/api/v1/patients/{patient}/coverages"
    if path.startswith("/api/v1/billing/invoices/{invoice_id}/"):
        invoices = client.get("/api/v1/billing/invoices?limit=1", headers=ADMIN).get_json()
        return path.replace("{invoice_id}", str(invoices[0]["id"])) if invoices else None
    pytest.fail(f"no parent to walk {path} under: add it to PARENTS")


def rows_of(body):
    return body["entries"] if isinstance(body, dict) else body


def test_the_walk_covers_the_lists_it_should(seeded):
    """The lists walked above include the ones paged in this issue."""
    every = {path for service in SERVICES for path, _cursor in list_paths(seeded[service])}
    for path in ("/api/v1/check-ins", "/api/v1/practitioners", "/api/v1/users", "/api/v1/audit",
                 "/api/v1/lab/reagents/{code}/ledger", "/api/v1/pharmacy/drugs/{code}/ledger",
                 "/api/v1/pharmacy/stock", "/api/v1/billing/insurance-prices", "/api/v1/billing/payment-reviews",
                 "/api/v1/patients/{patient_id}/coverages"):
        assert path in every, path
