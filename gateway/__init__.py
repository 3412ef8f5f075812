"""Gateway: sign-in, routing to the services, patients and visits, the charge ledger, the audit log."""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(config=None):
    """Build the gateway app."""
    from common.app import build_app
    from gateway import audit, models, proxy, routes
    from gateway import config as gateway_config

    app, api = build_app("gateway", "Hospital gateway", proxy=models.db, outbox_model=models.OutboxMessage,
                         idempotency_model=models.IdempotencyRecord, config=config,
                         extra_settings=gateway_config.settings)
    app.extensions.setdefault("charge_hooks", [])
    app.extensions.setdefault("reversal_hooks", [])
    for blueprint in (routes.auth_blp, routes.internal_blp, routes.ledger_blp):
        api.register_blueprint(blueprint)
    app.add_url_rule("/api/v1/<any(lab,pharmacy,billing):area>/<path:rest>", "proxy", proxy.forward,
                     methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    app.after_request(audit.audit_after_request)
    return app
