"""Billing fixtures: the billing app on this run's database, and a real localstripe on 127.0.0.1."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from tests.billing.factories import BILLING_CONFIG, BLOOD_COUNT, HBA1C, charge, encounter, invoice_of, post_charge
from tests.support import PYTHON, free_port, start_process, stop_process, wait_until

# localstripe pickles its state to a fixed file in /tmp on every write; the launcher turns that off so each run
# starts from a clean, private state, and binds loopback only (its own launcher binds every interface).
LOCALSTRIPE_LAUNCHER = (
    "import sys, localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
    "from aiohttp import web; from localstripe.server import app; "
    "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)"
)


@pytest.fixture
def billing(make_app):
    """The billing app with known webhook secrets and bank account."""
    return make_app("billing_service", **BILLING_CONFIG)


@pytest.fixture
def bill(client) -> dict:
    """A self-pay visit: blood count and HbA1c, 147 200 đồng to pay."""
    visit = encounter(level=None)
    post_charge(client, charge(BLOOD_COUNT, key="lab:test-run:3"), visit)
    post_charge(client, charge(HBA1C, key="lab:test-run:4"), visit)
    return invoice_of(client)


@pytest.fixture
def client(billing):
    return billing.test_client()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/v1/payment_intents", headers={"Authorization": "Bearer sk_test_up"},
                            timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="session")
def localstripe_server():
    """A localstripe process for the whole run, in a private temp dir; stopped by its pid."""
    folder = Path(tempfile.mkdtemp(prefix="localstripe-"))
    port = free_port()
    env = {**os.environ, "TMPDIR": str(folder)}
    process = start_process([PYTHON, "-c", LOCALSTRIPE_LAUNCHER, str(port)], env, folder / "localstripe.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url) or process.poll() is not None, timeout=30, message="localstripe to start")
        if process.poll() is not None:
            pytest.fail("localstripe did not start: " + (folder / "localstripe.log").read_text()[-2000:])
        yield url
    finally:
        stop_process(process)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def localstripe(localstripe_server):
    """localstripe emptied for this test."""
    requests.delete(f"{localstripe_server}/_config/data", timeout=5).raise_for_status()
    return localstripe_server
