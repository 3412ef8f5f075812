"""Publishing charge events through the outbox, validated against the one contract."""

from common import outbox
from common.contracts import (
    CHARGE_CREATED,
    CHARGE_REVERSALS_PATH,
    CHARGE_REVERSED,
    CHARGES_PATH,
    ChargeCreatedSchema,
    ChargeReversedSchema,
)

_created = ChargeCreatedSchema()
_reversed = ChargeReversedSchema()


def publish_charge_created(event: dict):
    """Queue a charge.created for the gateway in the current transaction; the key makes resends harmless."""
    payload = _created.dump(event)
    _created.load(payload)  # refuse to publish what the receiver would refuse
    return outbox.publish(CHARGE_CREATED, payload["key"], payload, destination="gateway", path=CHARGES_PATH)


def publish_charge_reversed(event: dict):
    """Queue a charge.reversed for the gateway in the current transaction."""
    payload = _reversed.dump(event)
    _reversed.load(payload)  # refuse to publish what the receiver would refuse
    return outbox.publish(CHARGE_REVERSED, payload["key"], payload, destination="gateway",
                          path=CHARGE_REVERSALS_PATH)
