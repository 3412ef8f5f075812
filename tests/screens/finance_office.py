"""The finance office's test hospital: the gateway (demo users) in front of a live billing service holding October
2026's closed, insured visits (built through billing's real intake), and the insurer's remittance files."""

import pytest

from tests.billing.factories import BILLING_CONFIG
from tests.billing.test_claims_support import close, hanoi
from tests.billing.test_precheck import clean_visit, load_prices
from tests.demo_seed import seed_demo

PERIOD = "2026-10"
CLEAN, UNSIGNED = "LK-2026-3001", "LK-2026-3002"  # UNSIGNED: no practitioner, a critical finding
HEADER = "ma_lk,table,line_no,approved_amount,rejection_reason,paid_amount,payment_reference,paid_on"
REJECTION = "Chỉ định xét nghiệm không phù hợp chẩn đoán, xuất toán"
# BHXH approves and pays the ceftriaxone, rejects the glucose test; a third row names a line never claimed.
REMITTANCE = "\r\n".join([
    HEADER,
    f"{CLEAN},XML2,1,280000,,280000,BHXH-HN-2026-11-0042,2026-11-28",
    f'{CLEAN},XML3,1,0,"{REJECTION}",0,,',
    f"{CLEAN},XML3,9,15000,,15000,BHXH-HN-2026-11-0042,2026-11-28",
]) + "\r\n"


class FinanceOffice:
    """The gateway app and URL, and billing's app (for the test's own API calls)."""

    def __init__(self, gateway_app, url: str, billing_app):
        self.gateway_app, self.url, self.billing_app = gateway_app, url, billing_app

    def client(self):
        return self.gateway_app.test_client()


def october(billing, *, unsigned: bool = False) -> None:
    """October's visits: one no rule finds fault with, and (unsigned) one whose doctor is not named."""
    client = billing.test_client()
    load_prices(client)
    close(client, clean_visit(client, CLEAN, 1), hanoi(14, 11, 30))
    if unsigned:
        close(client, clean_visit(client, UNSIGNED, 2, practitioner=None), hanoi(15, 10, 0))


@pytest.fixture
def office(make_app, live_server) -> FinanceOffice:
    """Billing live with October's clean visit; the gateway live with the demo users."""
    from tests.screens.conftest import SCREEN_SETTINGS  # (the conftest imports this fixture)

    billing = make_app("billing_service", **BILLING_CONFIG)
    october(billing)
    live_server(billing)
    gateway = make_app("gateway", **SCREEN_SETTINGS)
    seed_demo(gateway)
    return FinanceOffice(gateway, live_server(gateway), billing)


