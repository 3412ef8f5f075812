"""Other funding (T_NGUONKHAC): a programme, an aid donor, the state budget or the hospital pays part of a bill.

The decision's order: funding given to the patient comes off T_BNTT, then T_BNCCT, then T_BHTT; funding given to the
facility comes off the line total before the line is split. Worked examples are reproduced to the đồng.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_service.claims.bhyt_xml import parse_giamdinhhs
from billing_service.other_funding.rules import FUNDING_SOURCES, Grant, LineMoney, fund_lines, shares
from tests.billing.factories import GLUCOSE, charge, post_charge
from tests.billing.test_claims_support import FINANCE, add, build_batch, close, hanoi, invoice_id_of, visit
from tests.support import bearer

CASHIER = bearer("cashier")
# A costly drug paid at 50 % by BHYT (TYLE_TT_BH 50) on an 80 % card: the reference's worked example.
COSTLY_DRUG = ("40.999", "Trastuzumab 440mg (bột đông khô pha tiêm)", 10_000_000, {"atc": "L01FD01"})


def costly_drug_visit(client, encounter_id: str = "LK-2026-2001") -> dict:
    """A visit with one 10 000 000 đ drug line at TYLE_TT_BH 50 on an 80 % card (over the low-cost threshold)."""
    snapshot = visit(encounter_id, 1)
    body = charge(COSTLY_DRUG, key=f"pharmacy:dispense-line:{encounter_id}:1", encounter_id=encounter_id,
                  occurred_at=hanoi(14, 9))
    body.update(insurance_rate=50, unit="Lọ")
    response = post_charge(client, body, snapshot)
    assert response.status_code == 201, response.get_json()
    return snapshot


def fund(client, invoice_id: int, **fields):
    body = {"source": "foreign_aid", "target": "patient", "amount": 3_000_000, **fields}
    return client.post(f"/api/v1/billing/invoices/{invoice_id}/other-funding", json=body, headers=CASHIER)


def the_line(client, encounter_id: str) -> dict:
    invoice = client.get(f"/api/v1/billing/invoices/{invoice_id_of(client, encounter_id)}", headers=CASHIER)
    [line] = invoice.get_json()["lines"]
    return line


def money(line: dict) -> tuple:
    return (line["hospital_amount"], line["insured_amount"], line["insurer_amount"], line["copay_amount"],
            line["patient_outside_amount"], line["other_funding_amount"])


def test_patient_funding_reproduces_the_worked_example_of_the_decision(client):
    costly_drug_visit(client)

    response = fund(client, invoice_id_of(client, "LK-2026-2001"), amount=3_000_000, target="patient")

    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["applied_amount"], response.get_json()["xml_part"]) == (3_000_000, "foreign_aid")
    line = the_line(client, "LK-2026-2001")
    # BV 10 000 000, BH 5 000 000, T_BHTT 4 000 000, T_BNCCT 1 000 000, T_BNTT 2 000 000 (funding 3 000 000)
    assert money(line) == (10_000_000, 5_000_000, 4_000_000, 1_000_000, 2_000_000, 3_000_000)
    assert line["foreign_aid_funding_amount"] == 3_000_000


def test_patient_funding_beyond_the_patient_share_comes_off_the_insurer_last(client):
    costly_drug_visit(client)

    fund(client, invoice_id_of(client, "LK-2026-2001"), amount=6_500_000, target="patient")

    # T_BNTT 5 000 000 and T_BNCCT 1 000 000 are covered first, then 500 000 of T_BHTT.
    assert money(the_line(client, "LK-2026-2001")) == (10_000_000, 5_000_000, 3_500_000, 0, 0, 6_500_000)


def test_facility_funding_comes_off_the_line_total_before_it_is_split(client):
    costly_drug_visit(client)

    fund(client, invoice_id_of(client, "LK-2026-2001"), amount=6_000_000, target="facility", source="state_budget")

    # BV' = 4 000 000, BH' = min(5 000 000, 4 000 000) split at 80 %: 3 200 000 + 800 000, nothing outside.
    line = the_line(client, "LK-2026-2001")
    assert money(line) == (10_000_000, 4_000_000, 3_200_000, 800_000, 0, 6_000_000)
    assert line["state_budget_funding_amount"] == 6_000_000


def test_facility_funding_within_the_part_outside_insurance_leaves_the_insurer_share(client):
    costly_drug_visit(client)

    fund(client, invoice_id_of(client, "LK-2026-2001"), amount=3_000_000, target="facility", source="hospital")

    line = the_line(client, "LK-2026-2001")
    assert money(line) == (10_000_000, 5_000_000, 4_000_000, 1_000_000, 2_000_000, 3_000_000)
    assert line["other_source_funding_amount"] == 3_000_000  # the hospital's own money goes to T_NGUONKHAC_CL


def test_visit_funding_covers_every_line_outside_part_before_any_copay(client):
    snapshot = visit("LK-2026-2002", 2)
    add(client, snapshot, GLUCOSE, "lab:test-run:2002-1", hanoi(14, 8))
    add(client, snapshot, COSTLY_DRUG, "pharmacy:dispense-line:2002-1", hanoi(14, 9))
    invoice_id = invoice_id_of(client, "LK-2026-2002")

    response = fund(client, invoice_id, amount=2_004_300, target="patient", source="domestic_aid")

    assert response.status_code == 201
    invoice = client.get(f"/api/v1/billing/invoices/{invoice_id}", headers=CASHIER).get_json()
    glucose, drug = invoice["lines"]
    assert glucose["copay_amount"] == 0 and glucose["other_funding_amount"] == 4_300  # its whole 20 % co-pay
    assert (drug["patient_outside_amount"], drug["copay_amount"], drug["other_funding_amount"]) == (0, 0, 2_000_000)
    assert invoice["other_funding_amount"] == 2_004_300
    assert invoice["patient_amount"] == 0


def test_funding_more_than_the_line_costs_is_refused(client):
    costly_drug_visit(client)
    line_id = the_line(client, "LK-2026-2001")["id"]

    response = fund(client, invoice_id_of(client, "LK-2026-2001"), amount=10_000_001, line_id=line_id)

    assert response.status_code == 422
    assert (response.get_json()["code"], response.get_json()["available_amount"]) == ("FUNDING_EXCEEDS_COST",
                                                                                     10_000_000)


def test_withdrawn_funding_gives_the_line_its_plain_split_back(client):
    costly_drug_visit(client)
    grant = fund(client, invoice_id_of(client, "LK-2026-2001")).get_json()

    response = client.post(f"/api/v1/billing/other-funding/{grant['id']}/withdraw",
                           json={"reason": "Nhập nhầm chương trình tài trợ"}, headers=CASHIER)

    assert response.status_code == 200
    assert response.get_json()["state"] == "withdrawn"
    assert money(the_line(client, "LK-2026-2001")) == (10_000_000, 5_000_000, 4_000_000, 1_000_000, 5_000_000, 0)


def test_a_claimed_visit_takes_no_more_funding(client):
    snapshot = costly_drug_visit(client)
    close(client, snapshot, hanoi(14, 11))
    assert build_batch(client).status_code == 201

    response = fund(client, invoice_id_of(client, "LK-2026-2001"))

    assert response.status_code == 409
    assert response.get_json()["code"] == "INVOICE_CLAIMED"


def test_the_funding_and_its_parts_land_in_xml1_xml2_and_xml3(client):
    snapshot = visit("LK-2026-2003", 3)
    add(client, snapshot, GLUCOSE, "lab:test-run:2003-1", hanoi(14, 8))
    add(client, snapshot, COSTLY_DRUG, "pharmacy:dispense-line:2003-1", hanoi(14, 9))
    invoice_id = invoice_id_of(client, "LK-2026-2003")
    lines = client.get(f"/api/v1/billing/invoices/{invoice_id}", headers=CASHIER).get_json()["lines"]
    fund(client, invoice_id, amount=1_000_000, target="patient", source="state_budget", line_id=lines[1]["id"])
    fund(client, invoice_id, amount=21_500, target="facility", source="hospital", line_id=lines[0]["id"])
    close(client, snapshot, hanoi(14, 11))
    batch = build_batch(client).get_json()

    exported = client.get(f"/api/v1/billing/claim-batches/{batch['id']}/export?format=bhyt-4750",
                          headers=FINANCE)
    [record] = [r for r in parse_giamdinhhs(exported.data) if r["ma_lk"] == "LK-2026-2003"]

    [drug], [lab] = record["xml2"], record["xml3"]
    assert (drug["T_NGUONKHAC_NSNN"], drug["T_NGUONKHAC_CL"], drug["T_NGUONKHAC"]) == ("1000000", "0", "1000000")
    assert (lab["T_NGUONKHAC_CL"], lab["T_NGUONKHAC"], lab["T_BHTT"], lab["T_BNCCT"]) == ("21500", "21500", "0", "0")
    assert record["xml1"]["T_NGUONKHAC"] == "1021500"
    for line in (drug, lab):
        assert sum(int(line[c]) for c in ("T_BHTT", "T_BNCCT", "T_BNTT", "T_NGUONKHAC")) == int(line["THANH_TIEN_BV"])
    assert batch["other_funding_amount"] == 1_021_500


# --- the rule itself, over any lines and grants ---------------------------------------------------------------

@st.composite
def visits_with_grants(draw):
    """Lines of a visit (BV >= BH, any MUC_HUONG) and grants of any source and target, on a line or the visit."""
    lines = []
    for key in range(1, draw(st.integers(1, 5)) + 1):
        hospital = draw(st.integers(0, 50_000_000))
        insured = draw(st.integers(0, hospital))
        level = draw(st.sampled_from([0, 32, 40, 47, 80, 95, 100]))
        lines.append(LineMoney(key, hospital, insured, level))
    grants = [Grant(key=number, source=draw(st.sampled_from(FUNDING_SOURCES)),
                    target=draw(st.sampled_from(["patient", "facility"])), amount=draw(st.integers(1, 60_000_000)),
                    line_key=draw(st.none() | st.integers(1, len(lines))))
              for number in range(1, draw(st.integers(0, 4)) + 1)]
    return lines, grants


@settings(max_examples=400, deadline=None)
@given(visits_with_grants())
def test_every_funded_line_adds_up_to_its_hospital_amount(case):
    lines, grants = case
    funded, applied = fund_lines(lines, grants)

    for line in lines:
        split = funded[line.key].split
        assert (split.insurer_amount + split.copay_amount + split.patient_outside_amount
                + split.other_funding_amount) == line.hospital_amount
        assert min(split.insurer_amount, split.copay_amount, split.patient_outside_amount) >= 0
        assert sum(funded[line.key].parts.values()) == split.other_funding_amount
    for grant in grants:
        assert 0 <= applied[grant.key] <= grant.amount
    assert sum(applied.values()) == sum(funded[line.key].split.other_funding_amount for line in lines)


@settings(max_examples=200, deadline=None)
@given(visits_with_grants())
def test_patient_funding_never_touches_a_copay_while_some_outside_part_is_left(case):
    lines, grants = case
    patient_grants = [grant for grant in grants if grant.target == "patient"]
    funded, _ = fund_lines(lines, patient_grants)
    plain, _ = fund_lines(lines, [])

    for line in lines:
        before, after = plain[line.key].split, funded[line.key].split
        if after.copay_amount < before.copay_amount:
            assert after.patient_outside_amount == 0
        if after.insurer_amount < before.insurer_amount:
            assert after.copay_amount == 0


@pytest.mark.parametrize(("amount", "weights", "expected"), [
    (100, [100, 100, 100], [34, 33, 33]), (10, [0, 5, 5], [0, 5, 5]), (7, [4, 4], [4, 3]), (9, [3, 3], [3, 3]),
    (50, [10, 20], [10, 20]),
])
def test_a_visit_grant_is_shared_in_proportion_and_adds_back(amount, weights, expected):
    assert shares(amount, weights) == expected
