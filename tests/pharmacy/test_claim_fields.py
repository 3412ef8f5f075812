"""What a dispense tells billing for the claim: the national unit name (DON_VI_TINH), the prescriber, the lots."""

from tests.pharmacy.conftest import PHARMACIST, add_drug, dispense, pending_events, prescribe, receive


def test_a_drug_named_by_an_english_base_unit_is_charged_in_the_national_unit(pharmacy):
    add_drug(pharmacy, "ceftriaxone", unit_name=None)  # base unit "vial"
    receive(pharmacy, "40.206", "J0126A", 200, 50, cost_amount=14_000)

    dispense(pharmacy, prescribe(pharmacy, [("40.206", 2)]))

    [charge] = pending_events(pharmacy, "charge.created")
    assert charge["unit"] == "Lọ"


def test_the_catalogue_unit_name_wins_over_the_base_unit(pharmacy):
    drug = add_drug(pharmacy, "sodium_chloride", unit_name="Chai")

    assert (drug["base_unit"], drug["unit_name"]) == ("bottle", "Chai")


def test_a_drug_in_an_unknown_base_unit_needs_its_national_unit_name(pharmacy):
    from seeds.pharmacy_service import DRUGS

    body = {**DRUGS["paracetamol"], "code": "40.52", "gtin": None, "base_unit": "suppository", "unit_name": None}
    response = pharmacy.post("/api/v1/pharmacy/drugs", json={k: v for k, v in body.items() if v is not None},
                             headers=PHARMACIST)

    assert response.status_code == 422
    assert response.get_json()["code"] == "UNIT_NAME_REQUIRED"


def test_the_prescriber_and_the_lots_picked_travel_with_the_charge(pharmacy):
    add_drug(pharmacy, "amoxicillin")
    lot = receive(pharmacy, "40.158", "J0126B", 300, 100, cost_amount=860)
    body = {"encounter_id": "ENC-2026-000124", "patient_id": "BN-0001025", "prescriber": "BS. Nguyễn Văn Hùng",
            "prescriber_id": "12", "lines": [{"drug_code": "40.158", "quantity": 21}]}
    prescription = pharmacy.post("/api/v1/pharmacy/prescriptions", json=body, headers=PHARMACIST).get_json()

    dispense(pharmacy, prescription)

    [charge] = pending_events(pharmacy, "charge.created")
    assert (charge["ordered_by_id"], charge["unit"]) == ("12", "Viên")
    assert charge["details"]["lots"] == [{"lot_id": lot["id"], "lot_number": "J0126B",
                                          "expires_on": lot["expires_on"], "quantity": 21}]
    assert prescription["prescriber_id"] == "12"
