"""Billing service: invoices, insurance split, payments (VietQR, card), webhooks, refunds, claims."""

from importlib import import_module
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(config=None):
    """Build the billing service app."""
    from billing_service import config as billing_config
    from billing_service import models, routes, services
    from common.app import SECRETS, build_app, outbox_blueprint
    from common.contracts import (
        BILLING_CHARGES_PATH,
        BILLING_ENCOUNTERS_PATH,
        BILLING_REVERSALS_PATH,
        BillableChargeSchema,
        ChargeReversedSchema,
        EncounterSnapshotSchema,
    )
    from common.inbox import inbox_blueprint, one_by_one
    from common.integrity import integrity_blueprint

    app, api = build_app("billing_service", "Billing service", proxy=models.db, outbox_model=models.OutboxMessage,
                         idempotency_model=models.IdempotencyRecord, config=config,
                         extra_settings=billing_config.settings, secrets=SECRETS + billing_config.WEBHOOK_SECRETS)
    for blueprint in routes.BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.register_blueprint(outbox_blueprint("/api/v1/billing", roles=("finance",)))
    api.register_blueprint(integrity_blueprint(app, "/api/v1/billing", [models.LEDGER_CHAIN, models.PAYMENT_CHAIN],
                                               models.IntegrityAlert))
    api.register_blueprint(inbox_blueprint({  # the gateway's batched deliveries; same handlers as /internal/...
        BILLING_CHARGES_PATH: (BillableChargeSchema(), services.receive_charges),
        BILLING_REVERSALS_PATH: (ChargeReversedSchema(), one_by_one(services.receive_reversal)),
        BILLING_ENCOUNTERS_PATH: (EncounterSnapshotSchema(), one_by_one(services.receive_encounter)),
    }))
    api.register_blueprint(import_module("billing_service.claims.routes").blp)  # claims, remittances, reconciliation
    api.register_blueprint(import_module("billing_service.other_funding.routes").blp)
    return app
