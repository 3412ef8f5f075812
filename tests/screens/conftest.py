"""Fixtures of the screens: the demo hospital live on this run's databases, signed-in browsers and test clients."""

import re
import shutil
from pathlib import Path

import pytest

from bench.harness import CHROMIUM, CHROMIUM_ARGS
from tests.demo_seed import seed_demo
from tests.lab.conftest import lab_tables_emptied_child_first  # noqa: F401 (autouse: SQLite's lab tables)
from tests.pharmacy.conftest import pharmacy_tables_emptied_child_first  # noqa: F401 (autouse: the pharmacy's)
from tests.screens.finance_office import office  # noqa: F401 (fixture: the finance office's hospital)
from tests.support import CI, PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SCREEN_SETTINGS = {"SCREENS_POLL_SECONDS": 1, "SESSION_IDLE_MINUTES": 30}


class Hospital:
    """The demo hospital as `make run` seeds it: the gateway's app and URL, the lab's and the pharmacy's apps."""

    def __init__(self, gateway_app, gateway_url: str, lab_app, pharmacy_app):
        self.gateway_app, self.url, self.lab_app, self.pharmacy_app = gateway_app, gateway_url, lab_app, pharmacy_app

    def client(self):
        return self.gateway_app.test_client()


@pytest.fixture
def hospital(make_app, live_server) -> Hospital:
    """Lab, pharmacy, billing and the gateway live on their ports, all but billing with the demo seeds (the screens'
    data)."""
    lab_app, pharmacy_app = make_app("lab_service"), make_app("pharmacy_service")
    gateway_app = make_app("gateway", **SCREEN_SETTINGS)
    for app in (lab_app, pharmacy_app, gateway_app):
        seed_demo(app)
    live_server(lab_app)
    live_server(pharmacy_app)
    live_server(make_app("billing_service"))
    return Hospital(gateway_app, live_server(gateway_app), lab_app, pharmacy_app)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, path: str = "/sign-in") -> str:
    """Open a page and read the CSRF token its forms carry."""
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, username: str, password: str = "demo"):
    """Sign in through the sign-in form, as a browser does; return the answer."""
    return client.post("/sign-in", data={"username": username, "password": password, "csrf_token": csrf_of(client)})


def chromium_or_skip() -> str:
    """Return Debian's Chromium, or skip (fail with CI=true) when it is not installed."""
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    reason = (f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; `make test` does it "
              "as root) to run the browser tests")
    if CI:
        pytest.fail(reason + " (CI=true: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium headless (a browser download cannot work here)."""
    return {**browser_type_launch_args, "executable_path": chromium_or_skip(), "headless": True,
            "args": list(CHROMIUM_ARGS)}


@pytest.fixture
def artifacts() -> Path:
    """The folder for screenshots of final states (ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

