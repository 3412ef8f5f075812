"""The demo billing data: the BHYT price list of the demo catalogue, so the pre-submission check has prices."""

from seeds import seed_service
from tests.billing.test_claims_support import FINANCE


def test_the_demo_price_list_carries_every_demo_test_and_insured_drug_at_its_price(billing, client):
    with billing.app_context():
        assert seed_service("billing_service") is True

    prices = {p["code"]: p for p in client.get("/api/v1/billing/insurance-prices", headers=FINANCE).get_json()}

    assert (prices["23.0075.1494"]["price_amount"], prices["23.0075.1494"]["unit_name"]) == (21_500, "Lần")
    assert (prices["40.206"]["unit_name"], prices["40.206"]["price_amount"]) == ("Lọ", 16_800)
    assert "TPCN.0412" not in prices  # glucosamine is outside the BHYT list
    with billing.app_context():
        assert seed_service("billing_service") is False
