"""Gateway: sign-in, routing to the services, patients and visits, the charge ledger, the audit log."""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(config=None):
    """Build the gateway app."""
    from common.app import build_app, outbox_blueprint
    from common.contracts import (
        CHARGE_REVERSALS_PATH,
        CHARGES_PATH,
        ENCOUNTER_FLAGS_PATH,
        ChargeCreatedSchema,
        ChargeReversedSchema,
        EncounterFlagSchema,
    )
    from common.inbox import inbox_blueprint, one_by_one
    from common.integrity import integrity_blueprint
    from gateway import audit, audit_spool, models, openapi, proxy, routes, sign_in
    from gateway import config as gateway_config
    from gateway.charges import services as charges
    from gateway.check_ins import routes as check_in_routes
    from gateway.check_ins import services as check_ins
    from gateway.encounters import routes as encounter_routes
    from gateway.encounters.flags import store_encounter_flag
    from gateway.operations import routes as operation_routes
    from gateway.patients import routes as patient_routes
    from gateway.patients.schemas import RecordId
    from gateway.practitioners import routes as practitioner_routes
    from gateway.screens import register_screens
    from gateway.users import routes as user_routes
    from gateway.users import standing

    app, api = build_app("gateway", "Hospital gateway", proxy=models.db, outbox_model=models.OutboxMessage,
                         idempotency_model=models.IdempotencyRecord, config=config,
                         extra_settings=gateway_config.settings)
    api.register_field(RecordId, "string", None)  # ids are given back as strings of digits
    app.extensions.setdefault("periodic_jobs", []).append(check_ins.deliver_check_ins)
    inbox = inbox_blueprint({  # the same handlers as the single /internal/... endpoints, for batched deliveries
        CHARGES_PATH: (ChargeCreatedSchema(), charges.store_charges),
        CHARGE_REVERSALS_PATH: (ChargeReversedSchema(), one_by_one(charges.store_charge_reversal)),
        ENCOUNTER_FLAGS_PATH: (EncounterFlagSchema(), one_by_one(store_encounter_flag)),
    })
    for blueprint in (routes.auth_blp, routes.internal_blp, inbox, routes.ledger_blp, patient_routes.blp,
                      encounter_routes.blp, practitioner_routes.blp, check_in_routes.blp, operation_routes.blp,
                      user_routes.blp,
                      outbox_blueprint("/api/v1/gateway", roles=("finance",)),
                      integrity_blueprint(app, "/api/v1/gateway", [models.CHARGE_CHAIN, models.AUDIT_CHAIN],
                                          models.IntegrityAlert)):
        api.register_blueprint(blueprint)
    app.add_url_rule("/api/v1/<any(lab,pharmacy,billing):area>/<path:rest>", "proxy", proxy.forward,
                     methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    openapi.install(app, api)  # /openapi.json: the gateway's paths and every service's public ones
    app.before_request(standing.check_standing)  # a disabled account stops at once, not when its token expires
    app.after_request(audit.audit_after_request)
    register_screens(app)
    app.extensions.setdefault("periodic_jobs", []).extend((audit_spool.drain_quietly,  # the sweeper drains it too
                                                           sign_in.purge_old_failures))
    return app
