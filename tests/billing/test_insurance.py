"""BHYT line money split: the worked examples of QĐ 130/4750, invariants, benefit levels and bad input."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_service.insurance import (
    InsuranceRuleError,
    LineSplit,
    line_amounts,
    split_line,
    visit_benefit_level,
)
from common.money import percent_of, round_half_up

# Worked examples copied from the BHYT reference: (quantity, DON_GIA_BV, DON_GIA_BH, TYLE_TT_BH, MUC_HUONG,
# patient-specific funding) -> (THANH_TIEN_BV, THANH_TIEN_BH, T_BHTT, T_BNCCT, T_BNTT).
WORKED_EXAMPLES = [
    pytest.param(2, 150_000, 150_000, 100, 80, 0, (300_000, 300_000, 240_000, 60_000, 0), id="2x150000-at-80"),
    pytest.param(2, 150_000, 150_000, 100, 95, 0, (300_000, 300_000, 285_000, 15_000, 0), id="2x150000-at-95"),
    pytest.param(2, 150_000, 150_000, 100, 100, 0, (300_000, 300_000, 300_000, 0, 0), id="2x150000-at-100"),
    pytest.param(2, 150_000, 150_000, 100, 32, 0, (300_000, 300_000, 96_000, 204_000, 0), id="out-of-network-32"),
    pytest.param(1, 120_000, 100_000, 100, 80, 0, (120_000, 100_000, 80_000, 20_000, 20_000), id="supply-bv>bh"),
    pytest.param(
        1,
        10_000_000,
        10_000_000,
        50,
        80,
        3_000_000,
        (10_000_000, 5_000_000, 4_000_000, 1_000_000, 2_000_000),
        id="drug-50pct-with-patient-funding",
    ),
]


@pytest.mark.parametrize(("qty", "price_bv", "price_bh", "rate_bh", "level", "funding", "expected"), WORKED_EXAMPLES)
def test_every_worked_example_of_the_decision_is_reproduced_exactly(
    qty, price_bv, price_bh, rate_bh, level, funding, expected
):
    hospital, insured = line_amounts(qty, price_bv, price_bh, insurance_rate=rate_bh)
    split = split_line(hospital, insured, level, other_funding=funding)
    assert (
        split.hospital_amount,
        split.insured_amount,
        split.insurer_amount,
        split.copay_amount,
        split.patient_outside_amount,
    ) == expected
    assert split.other_funding_amount == funding
    assert split.insurer_amount + split.patient_amount + funding == split.hospital_amount


def test_an_80_percent_card_pays_240000_of_a_300000_line():
    split = split_line(300_000, 300_000, 80)
    assert split.insurer_amount == 240_000
    assert split.patient_amount == 60_000
    assert split.benefit_level == 80


def test_a_line_split_is_immutable():
    split = split_line(300_000, 300_000, 80)
    with pytest.raises(AttributeError):
        split.insurer_amount = 0


def test_the_insurer_share_is_rounded_half_up_to_whole_dong():
    assert split_line(3, 3, 50).insurer_amount == 2  # 1.5 -> 2
    assert split_line(100, 100, Decimal("33.25")).insurer_amount == 33  # 33.25 -> 33
    assert split_line(2, 2, Decimal("37.5")).insurer_amount == 1  # 0.75 -> 1
    assert split_line(101, 101, Decimal("32.5")).copay_amount == 101 - 33  # 32.825 -> 33


def test_patient_funding_pays_outside_part_then_copay_then_insurer():
    # BV 120 000, BH 100 000 at 80 %: outside 20 000, co-pay 20 000, insurer 80 000 before funding.
    assert _parts(split_line(120_000, 100_000, 80, 15_000)) == (80_000, 20_000, 5_000)
    assert _parts(split_line(120_000, 100_000, 80, 30_000)) == (80_000, 10_000, 0)
    assert _parts(split_line(120_000, 100_000, 80, 50_000)) == (70_000, 0, 0)
    assert _parts(split_line(120_000, 100_000, 80, 120_000)) == (0, 0, 0)


def test_facility_funding_comes_off_the_line_total_before_the_split():
    # BV' = 120 000 - 10 000 = 110 000, BH' = min(100 000, 110 000): only the outside part shrinks.
    split = split_line(120_000, 100_000, 80, 10_000, funding_to="facility")
    assert _parts(split) == (80_000, 20_000, 10_000)
    assert (split.hospital_amount, split.insured_amount) == (120_000, 100_000)
    # BV' = 120 000 - 50 000 = 70 000, BH' = 70 000: insurer 56 000, co-pay 14 000, nothing outside.
    split = split_line(120_000, 100_000, 80, 50_000, funding_to="facility")
    assert _parts(split) == (56_000, 14_000, 0)
    assert (split.hospital_amount, split.insured_amount, split.other_funding_amount) == (120_000, 70_000, 50_000)


def test_a_line_outside_the_insurance_list_is_all_paid_by_the_patient():
    hospital, insured = line_amounts(3, 45_000, 45_000, insurance_rate=0)
    split = split_line(hospital, insured, 80)
    assert _parts(split) == (0, 0, 135_000)


def _parts(split: LineSplit) -> tuple[int, int, int]:
    return split.insurer_amount, split.copay_amount, split.patient_outside_amount


benefit_levels = st.integers(0, 100) | st.decimals(min_value=0, max_value=100, places=2)


@st.composite
def lines(draw):
    hospital = draw(st.integers(0, 10**12))
    insured = draw(st.integers(0, hospital))
    funding = draw(st.integers(0, hospital))
    return hospital, insured, funding, draw(benefit_levels)


@settings(max_examples=300, deadline=None)
@given(line=lines())
def test_patient_funding_split_always_adds_up_to_the_hospital_amount(line):
    hospital, insured, funding, level = line
    split = split_line(hospital, insured, level, funding, funding_to="patient")
    parts = (split.insurer_amount, split.copay_amount, split.patient_outside_amount, split.other_funding_amount)
    assert min(parts) >= 0
    assert sum(parts) == hospital
    before = split_line(hospital, insured, level)
    assert split.patient_outside_amount == max(0, before.patient_outside_amount - funding)
    assert split.insurer_amount == max(0, before.insurer_amount - max(0, funding - before.patient_amount))
    assert split.insured_amount == insured


@settings(max_examples=300, deadline=None)
@given(line=lines())
def test_facility_funding_split_always_adds_up_to_the_hospital_amount(line):
    hospital, insured, funding, level = line
    split = split_line(hospital, insured, level, funding, funding_to="facility")
    parts = (split.insurer_amount, split.copay_amount, split.patient_outside_amount, split.other_funding_amount)
    assert min(parts) >= 0
    assert sum(parts) == hospital
    assert split.insured_amount == min(insured, hospital - funding)
    assert split.insurer_amount == percent_of(split.insured_amount, level)
    assert split.insurer_amount + split.copay_amount == split.insured_amount


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((-1, 0, 80), {}),
        ((100, -1, 80), {}),
        ((100, 0, 80), {"other_funding": -1}),
        ((100, 101, 80), {}),
        ((100, 100, 80), {"other_funding": 101}),
        ((100, 100, 101), {}),
        ((100, 100, -1), {}),
        ((100, 100, Decimal("100.01")), {}),
        ((100, 100, 80.0), {}),
        ((100, 100, Decimal("NaN")), {}),
        ((100.0, 100, 80), {}),
        ((100, True, 80), {}),
        ((100, 100, 80), {"funding_to": "insurer"}),
    ],
)
def test_impossible_line_inputs_are_refused(args, kwargs):
    with pytest.raises(InsuranceRuleError):
        split_line(*args, **kwargs)


def test_insurance_rule_error_is_a_value_error():
    assert issubclass(InsuranceRuleError, ValueError)


def test_insurance_never_pays_on_more_than_the_hospital_unit_price():
    assert line_amounts(2, 100_000, 120_000) == (200_000, 200_000)


def test_a_special_service_rate_also_scales_the_insured_amount():
    # 1 x 1 000 000 x TYLE_TT_BH 100 % x TYLE_TT_DV 50 %.
    assert line_amounts(1, 1_000_000, 1_000_000, service_rate=50) == (1_000_000, 500_000)
    assert line_amounts(3, 333_333, 333_333, insurance_rate=50, service_rate=50) == (999_999, 250_000)


def test_half_a_tablet_is_charged_and_rounded_half_up():
    assert line_amounts(Decimal("0.5"), 1_235, 1_235) == (618, 618)  # 617.5 -> 618
    assert line_amounts(Decimal("1.5"), Decimal("1234.5"), 1_000, insurance_rate=Decimal("33.3")) == (1852, 500)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((-1, 100, 100), {}),
        ((1, -100, 100), {}),
        ((1, 100, -100), {}),
        ((1.5, 100, 100), {}),
        ((1, 100, 100), {"insurance_rate": 101}),
        ((1, 100, 100), {"service_rate": -1}),
        ((1, 100, 100), {"insurance_rate": 50.0}),
    ],
)
def test_impossible_line_amount_inputs_are_refused(args, kwargs):
    with pytest.raises(InsuranceRuleError):
        line_amounts(*args, **kwargs)


def test_a_visit_costing_just_under_15_percent_of_base_salary_is_fully_covered():
    assert visit_benefit_level(80, insured_total=350_999) == 100


def test_a_visit_costing_exactly_15_percent_of_base_salary_gets_the_card_level():
    assert visit_benefit_level(80, insured_total=351_000) == 80
    assert visit_benefit_level(95, insured_total=1_000_000) == 95


def test_the_low_cost_threshold_follows_the_base_salary():
    assert visit_benefit_level(80, insured_total=269_999, base_salary_amount=1_800_000) == 100
    assert visit_benefit_level(80, insured_total=270_000, base_salary_amount=1_800_000) == 80


def test_an_80_percent_card_out_of_network_at_40_percent_gets_32():
    level = visit_benefit_level(80, in_network=False, network_rate=40, insured_total=1_000_000)
    assert level == 32 and type(level) is int


def test_an_inexact_out_of_network_level_stays_an_exact_decimal():
    assert visit_benefit_level(95, in_network=False, network_rate=35, insured_total=1_000_000) == Decimal("33.25")


def test_the_low_cost_rule_does_not_lift_an_out_of_network_visit_to_100():
    assert visit_benefit_level(80, in_network=False, network_rate=40, insured_total=1_000) == 32


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((70,), {}),
        ((80.0,), {}),
        ((Decimal(80),), {}),
        ((True,), {}),
        ((80,), {"in_network": False, "network_rate": 101}),
        ((80,), {"in_network": False, "network_rate": 40.0}),
        ((80,), {"insured_total": -1}),
        ((80,), {"base_salary_amount": 0}),
    ],
)
def test_an_unknown_card_level_or_rate_is_refused(args, kwargs):
    with pytest.raises(InsuranceRuleError):
        visit_benefit_level(*args, **kwargs)


def test_money_helpers_round_half_up_and_refuse_floats():
    assert percent_of(300_000, 80) == 240_000
    assert percent_of(5, 50) == 3
    assert percent_of(1, Decimal("49.99")) == 0
    assert round_half_up(Decimal("2.5")) == 3 and round_half_up(Decimal("2.4999")) == 2
    with pytest.raises(TypeError):
        percent_of(100, 12.5)
    with pytest.raises(TypeError):
        round_half_up(2.5)


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(0, 10**15), percent=st.integers(0, 100))
def test_percent_of_matches_exact_integer_half_up_arithmetic(amount, percent):
    assert percent_of(amount, percent) == (amount * percent * 2 + 100) // 200
