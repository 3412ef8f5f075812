"""Pharmacy service: drugs, lots, prescriptions, dispensing, returns, counts, recalls, alerts."""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(config=None):
    """Build the pharmacy service app."""
    from common.app import build_app, outbox_blueprint
    from common.integrity import integrity_blueprint
    from pharmacy_service import config as pharmacy_config
    from pharmacy_service import jobs, models, routes

    app, api = build_app("pharmacy_service", "Pharmacy service", proxy=models.db, outbox_model=models.OutboxMessage,
                         idempotency_model=models.IdempotencyRecord, config=config,
                         extra_settings=pharmacy_config.settings)
    for blueprint in routes.BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.register_blueprint(outbox_blueprint("/api/v1/pharmacy", roles=("pharmacist",)))
    app.extensions.setdefault("periodic_jobs", []).append(jobs.scan_expiry_alerts)
    api.register_blueprint(integrity_blueprint(app, "/api/v1/pharmacy", [models.STOCK_CARD_CHAIN],
                                               models.IntegrityAlert))
    return app
