"""The PostgreSQL pool: a connection just given back is handed out without a ping; a broken one is not kept."""

import pytest
from playhouse.pool import PooledPostgresqlDatabase


@pytest.fixture
def gateway_db(make_app, engine):
    if engine != "postgres":
        pytest.skip("the pool is PostgreSQL's")
    app = make_app("gateway")
    with app.app_context():
        yield app.extensions["database"]


def audit_count(text: str) -> int:
    from gateway.models import AuditEntry

    return AuditEntry.select().where(AuditEntry.action == text).count()


def record(action: str) -> None:
    from gateway.models import AuditEntry

    AuditEntry.create(actor="pool-test", role="admin", action=action, status_code=201, request_id="-")


def test_a_rolled_back_transaction_leaves_nothing(gateway_db):
    with gateway_db.atomic() as transaction:
        record("rolled back")
        transaction.rollback()
    with gateway_db.atomic():
        record("kept")
    assert (audit_count("rolled back"), audit_count("kept")) == (0, 1)


def test_a_connection_given_back_a_moment_ago_is_handed_out_again_without_a_ping(gateway_db, monkeypatch):
    pings = []
    gateway_db.connection()
    gateway_db.close()
    real = PooledPostgresqlDatabase._is_closed  # peewee's check, with its ping
    monkeypatch.setattr(PooledPostgresqlDatabase, "_is_closed", lambda self, conn: pings.append(1) or real(
        self, conn))
    gateway_db.connect()
    assert pings == []  # handed out as it was
    record("after check-out")
    assert audit_count("after check-out") == 1


def test_a_connection_closed_by_the_server_is_not_handed_out_again(gateway_db):
    first = gateway_db.connection()
    first.close()  # as if the server had gone away
    gateway_db.close()
    gateway_db.connect()
    assert gateway_db.connection() is not first
    record("fresh connection")
    assert audit_count("fresh connection") == 1
