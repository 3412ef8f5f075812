"""The PostgreSQL pool: BEGIN rides on a transaction's first statement, and rolled-back work is gone."""

import logging

import pytest

from common.sql import fetch_one, insert_row


@pytest.fixture
def gateway_db(make_app, engine):
    if engine != "postgres":
        pytest.skip("the pool is PostgreSQL's")
    app = make_app("gateway")
    with app.app_context():
        yield app.extensions["database"]


def audit_count(text: str) -> int:
    from gateway.models import AuditEntry

    return fetch_one(AuditEntry, "SELECT count(*) FROM audit_entry WHERE action = %s", (text,))[0]


def test_a_rolled_back_transaction_leaves_nothing_even_when_its_first_statement_opened_it(gateway_db):
    from gateway.models import AuditEntry

    gateway_db.close()  # the transaction's first statement also connects
    with gateway_db.atomic() as transaction:
        insert_row(AuditEntry, actor="pool-test", role="admin", action="rolled back", status_code=201, request_id="-")
        assert gateway_db.connection().info.transaction_status != 0  # inside a transaction, not autocommit
        transaction.rollback()
    with gateway_db.atomic():
        insert_row(AuditEntry, actor="pool-test", role="admin", action="kept", status_code=201, request_id="-")
    assert (audit_count("rolled back"), audit_count("kept")) == (0, 1)


def test_a_transaction_that_runs_nothing_sends_nothing_and_begin_rides_on_the_first_statement(gateway_db, caplog):
    from gateway.models import AuditEntry

    gateway_db.connection()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        with gateway_db.atomic():
            pass
        assert caplog.records == []  # neither BEGIN nor COMMIT went out
        with gateway_db.atomic():
            with gateway_db.atomic():  # a savepoint: the transaction's first statement
                insert_row(AuditEntry, actor="pool-test", role="admin", action="nested", status_code=201,
                           request_id="-")
    sent = [str(record.msg[0] if isinstance(record.msg, tuple) else record.getMessage()) for record in caplog.records]
    assert sent[0].startswith("BEGIN;\nSAVEPOINT") and not any(text.strip() == "BEGIN" for text in sent)
    assert audit_count("nested") == 1 and not gateway_db.in_transaction()


def deferred_audit(gateway_db, action: str) -> None:
    from common.sql import defer

    defer(gateway_db, "INSERT INTO audit_entry (actor, role, action, status_code, request_id, occurred_at)"
                      " VALUES (%s, %s, %s, %s, %s, now())", ("pool-test", "admin", action, 201, "-"))


def test_a_deferred_write_travels_with_the_next_statement_or_the_commit(gateway_db, caplog):
    gateway_db.connection()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        with gateway_db.atomic():
            deferred_audit(gateway_db, "deferred then read")
            assert caplog.records == []  # nothing sent yet
            assert audit_count("deferred then read") == 1  # the read carries it and sees it
            deferred_audit(gateway_db, "deferred to commit")
    sent = [str(record.msg[0] if isinstance(record.msg, tuple) else record.getMessage()) for record in caplog.records]
    assert len(sent) == 2 and sent[0].startswith("BEGIN;\nINSERT") and sent[1].rstrip().endswith("COMMIT")
    assert audit_count("deferred to commit") == 1


def test_a_deferred_write_is_dropped_by_a_rollback_and_a_savepoint_carries_what_came_before(gateway_db):
    with gateway_db.atomic():
        deferred_audit(gateway_db, "before the savepoint")
        with gateway_db.atomic() as savepoint:
            deferred_audit(gateway_db, "inside the savepoint")
            savepoint.rollback()
    with gateway_db.atomic() as transaction:
        deferred_audit(gateway_db, "rolled back unsent")
        transaction.rollback()
    deferred_audit(gateway_db, "outside a transaction")  # runs at once
    counts = [audit_count(text) for text in ("before the savepoint", "inside the savepoint", "rolled back unsent",
                                             "outside a transaction")]
    assert counts == [1, 0, 0, 1]


def test_a_hot_statement_is_prepared_once_per_connection_and_survives_a_rollback(gateway_db):
    from common.sql import execute

    text = "SELECT count(*) FROM audit_entry WHERE action = %s AND status_code = %s"
    with gateway_db.atomic() as transaction:
        deferred_audit(gateway_db, "prepared")
        assert execute(gateway_db, text, ("prepared", 201), prepared=True).fetchone() == (1,)
        transaction.rollback()  # a prepared statement is the session's: it outlives the transaction
    for _ in range(7):  # past the five custom plans PostgreSQL makes before it settles on a generic one
        assert execute(gateway_db, text, ("prepared", 201), prepared=True).fetchone() == (0,)
    statements = execute(gateway_db, "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
                                     " WHERE name LIKE 'hot_%%'").fetchall()
    assert [(statement.split(" AS ", 1)[1], runs) for statement, runs in statements] == [
        ("SELECT count(*) FROM audit_entry WHERE action = $1 AND status_code = $2", 8)]
