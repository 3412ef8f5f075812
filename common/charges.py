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
    payload = _created.dump(_created.load(_created.dump(event)))  # validated, with the contract's defaults
    return outbox.publish(CHARGE_CREATED, payload["key"], payload, destination="gateway", path=CHARGES_PATH)


def publish_charge_reversed(event: dict):
    """Queue a charge.reversed for the gateway in the current transaction."""
    payload = _reversed.dump(_reversed.load(_reversed.dump(event)))
    return outbox.publish(CHARGE_REVERSED, payload["key"], payload, destination="gateway",
                          path=CHARGE_REVERSALS_PATH)
