"""Lab service: reagents and their lots, tests and recipes, test runs that consume reagent, alerts, yield reports."""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def create_app(config=None):
    """Build the lab service app."""
    from common.app import build_app, outbox_blueprint
    from common.integrity import integrity_blueprint
    from lab_service import config as lab_config
    from lab_service import jobs, models, routes

    app, api = build_app("lab_service", "Lab service", proxy=models.db, outbox_model=models.OutboxMessage,
                         idempotency_model=models.IdempotencyRecord, config=config, extra_settings=lab_config.settings)
    for blueprint in routes.BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.register_blueprint(outbox_blueprint("/api/v1/lab", roles=("lab_head",)))
    app.extensions.setdefault("periodic_jobs", []).append(jobs.check_all_alerts)
    api.register_blueprint(integrity_blueprint(app, "/api/v1/lab", [models.LEDGER_CHAIN], models.IntegrityAlert))
    return app
