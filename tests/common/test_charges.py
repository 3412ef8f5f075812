"""Charge events leave in the contract's JSON form: defaults filled in, invalid ones refused before they are queued."""

from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from common.charges import contract_payload
from common.contracts import ChargeCreatedSchema, ChargeReversedSchema
from tests.common.test_outbox import glucose_charge

CREATED, REVERSED = ChargeCreatedSchema(), ChargeReversedSchema()
REVERSAL = {"key": "pharmacy:return:7", "charge_key": "pharmacy:dispense-line:3", "source": "pharmacy",
            "encounter_id": "1001", "quantity": 2, "amount": 3000, "reason": "Bệnh nhân trả lại thuốc",
            "occurred_at": datetime(2026, 11, 23, 8, 30, tzinfo=UTC)}


@pytest.mark.parametrize("schema,event", [
    (CREATED, glucose_charge()),
    (CREATED, {**glucose_charge(2), "insurance_rate": 50, "cost_amount": 0, "details": {"atc": "J01CA04"}}),
    (CREATED, {k: v for k, v in glucose_charge(3).items() if k not in ("cost_amount", "details")}),
    (REVERSED, REVERSAL),
])
def test_the_payload_is_what_the_receiver_would_load_and_dump(schema, event):
    assert contract_payload(schema, event) == schema.dump(schema.load(schema.dump(event)))
    assert contract_payload(schema, event)["occurred_at"].endswith("+00:00")


@pytest.mark.parametrize("change", [{"amount": -1}, {"source": "radiology"}, {"quantity": 0}])
def test_an_event_the_receiver_would_refuse_is_not_published(change):
    with pytest.raises(ValidationError):
        contract_payload(CREATED, {**glucose_charge(), **change})
