"""Other funding (T_NGUONKHAC) spread over a visit's lines, in the order QĐ 130/QĐ-BYT (amended by QĐ 4750) gives.

The rule, as the decision states it:
- Other funding NK given to this patient is deducted first from T_BNTT, then T_BNCCT, then T_BHTT.
- Funding given to the facility in general is deducted from the line total first, then the line is split normally.
- Invariant: T_BHTT + T_BNCCT + T_BNTT + T_NGUONKHAC = THANH_TIEN_BV for every line.

A grant is recorded on one line or on the whole visit. How a visit's grant reaches its lines (the decision is per
line, so this is our reading):
- Facility grants first, in the order they were recorded. One on a line takes what the line has left; one on the
  visit is shared among the lines in proportion to what each has left (largest remainder, earlier lines first on a
  tie), so parts always add back to the grant.
- Then every line is split with its facility funding, and patient grants are taken in the order they were
  recorded: one on a line from that line's T_BNTT, T_BNCCT, T_BHTT; one on the visit from every line's T_BNTT
  (in line order), then every line's T_BNCCT, then every line's T_BHTT: the visit's order is the line's order.
- A grant larger than what the lines have left (the lines shrank after a reversal) is applied up to that; the rest
  is reported as not applied, never pushed onto the patient or the insurer.

The parts of T_NGUONKHAC by source are the decision's columns: T_NGUONKHAC_NSNN (state budget), T_NGUONKHAC_VTNN
(aid from abroad), T_NGUONKHAC_VTTN (aid from within Viet Nam), T_NGUONKHAC_CL (the rest: the hospital's own
funds and anything else).
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from billing_service.insurance import LineSplit, split_funded_line

FUNDING_TARGETS = ("patient", "facility")
FUNDING_SOURCES = ("state_budget", "foreign_aid", "domestic_aid", "hospital", "other")
FUNDING_PARTS = ("state_budget", "foreign_aid", "domestic_aid", "other_source")  # NSNN, VTNN, VTTN, CL
PART_OF_SOURCE = {"state_budget": "state_budget", "foreign_aid": "foreign_aid", "domestic_aid": "domestic_aid",
                  "hospital": "other_source", "other": "other_source"}


@dataclass(frozen=True)
class Grant:
    """One recorded amount of other funding: on a line (line_key) or on the whole visit (line_key None)."""

    key: int
    source: str
    target: str
    amount: int
    line_key: int | None = None


@dataclass(frozen=True)
class LineMoney:
    """What a line costs before other funding: THANH_TIEN_BV, THANH_TIEN_BH and MUC_HUONG."""

    key: int
    hospital_amount: int
    insured_amount: int
    benefit_level: int | Decimal


@dataclass(frozen=True)
class FundedLine:
    """A line's split with its other funding, and that funding by part (NSNN, VTNN, VTTN, CL)."""

    split: LineSplit
    parts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Ledger:
    """What each line and grant received so far."""

    facility: Counter = field(default_factory=Counter)
    patient: Counter = field(default_factory=Counter)
    parts: dict = field(default_factory=dict)
    applied: Counter = field(default_factory=Counter)

    def give(self, grant: Grant, line_key: int, amount: int) -> None:
        if amount <= 0:
            return
        (self.facility if grant.target == "facility" else self.patient)[line_key] += amount
        self.parts.setdefault(line_key, Counter())[PART_OF_SOURCE[grant.source]] += amount
        self.applied[grant.key] += amount


def shares(amount: int, weights: list[int]) -> list[int]:
    """Split amount (at most sum(weights)) in proportion to weights; parts add up and none exceeds its weight."""
    total = sum(weights)
    if amount <= 0 or total <= 0:
        return [0] * len(weights)
    amount = min(amount, total)
    parts = [amount * weight // total for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for index in by_remainder[:amount - sum(parts)]:
        parts[index] += 1
    return parts


def _fund_facility(lines: list[LineMoney], grants: list[Grant], ledger: _Ledger) -> None:
    room = {line.key: line.hospital_amount for line in lines}
    for grant in grants:
        if grant.line_key is not None:
            taken = {grant.line_key: min(grant.amount, room.get(grant.line_key, 0))}
        else:
            keys = [line.key for line in lines]
            taken = dict(zip(keys, shares(grant.amount, [room[key] for key in keys]), strict=True))
        for key, amount in taken.items():
            ledger.give(grant, key, amount)
            room[key] -= amount


def _fund_patient(lines: list[LineMoney], grants: list[Grant], ledger: _Ledger) -> None:
    buckets = {}
    for line in lines:
        split = split_funded_line(line.hospital_amount, line.insured_amount, line.benefit_level,
                                  facility_funding=ledger.facility[line.key])
        buckets[line.key] = [split.patient_outside_amount, split.copay_amount, split.insurer_amount]
    for grant in grants:
        keys = [grant.line_key] if grant.line_key is not None else [line.key for line in lines]
        left = grant.amount
        for bucket in range(3):  # T_BNTT, then T_BNCCT, then T_BHTT
            for key in keys:
                if key not in buckets or left == 0:
                    continue
                taken = min(left, buckets[key][bucket])
                buckets[key][bucket] -= taken
                left -= taken
                ledger.give(grant, key, taken)


def fund_lines(lines: list[LineMoney], grants: list[Grant]) -> tuple[dict[int, FundedLine], dict[int, int]]:
    """Split every line with the visit's other funding; return ({line key: FundedLine}, {grant key: applied})."""
    ledger = _Ledger()
    ordered = sorted(grants, key=lambda grant: grant.key)
    _fund_facility(lines, [grant for grant in ordered if grant.target == "facility"], ledger)
    _fund_patient(lines, [grant for grant in ordered if grant.target == "patient"], ledger)
    funded = {}
    for line in lines:
        split = split_funded_line(line.hospital_amount, line.insured_amount, line.benefit_level,
                                  facility_funding=ledger.facility[line.key],
                                  patient_funding=ledger.patient[line.key])
        parts = ledger.parts.get(line.key, Counter())
        funded[line.key] = FundedLine(split, {part: parts[part] for part in FUNDING_PARTS})
    return funded, {grant.key: ledger.applied[grant.key] for grant in ordered}
