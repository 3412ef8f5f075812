"""Nested `db.atomic()` blocks (common.db.KeptSavepoint): a block that succeeds leaves its savepoint for COMMIT to end
(no RELEASE round trip), one that fails rolls back to it, and an enclosing failure rolls back everything. On the
engine of the run, through a service's own database proxy."""

import itertools

import pytest

from lab_service.models import db


@pytest.fixture
def probe(make_app, monkeypatch):
    app = make_app("lab_service")
    with app.app_context():
        db.connect(reuse_if_open=True)
        db.execute_sql("CREATE TABLE savepoint_probe (id INTEGER PRIMARY KEY, body VARCHAR(20) NOT NULL)")
        sent = []
        original = db.obj.execute_sql

        def recording(sql, params=None):
            sent.append(sql.split()[0].upper() + (" " + sql.split()[1].upper() if " " in sql else ""))
            return original(sql, params)

        monkeypatch.setattr(db.obj, "execute_sql", recording)
        try:
            yield sent
        finally:
            monkeypatch.undo()
            db.execute_sql("DROP TABLE savepoint_probe")
            db.close()


def bodies() -> list[str]:
    return [body for (body,) in db.execute_sql("SELECT body FROM savepoint_probe ORDER BY id").fetchall()]


_ids = itertools.count(1)


def add(body: str) -> None:
    marker = db.obj.param  # "%s" on PostgreSQL, "?" on SQLite
    db.execute_sql(f"INSERT INTO savepoint_probe (id, body) VALUES ({marker}, {marker})", (next(_ids), body))


def test_a_nested_block_that_succeeds_sends_no_release_and_commits_with_its_transaction(probe):
    with db.atomic():
        add("outer")
        with db.atomic():
            add("inner")
    assert "RELEASE SAVEPOINT" not in probe
    assert sum(statement.startswith("SAVEPOINT") for statement in probe) == 1
    assert bodies() == ["outer", "inner"]


def test_a_nested_block_that_fails_rolls_back_only_itself(probe):
    with db.atomic():
        add("before")
        with db.atomic():
            add("kept")
        with pytest.raises(ValueError), db.atomic():
            add("undone")
            raise ValueError("stock moved")
        add("after")
    assert bodies() == ["before", "kept", "after"]
    assert "ROLLBACK TO" in probe


def test_an_enclosing_failure_rolls_back_the_nested_blocks_that_succeeded(probe):
    with pytest.raises(ValueError), db.atomic():
        with db.atomic():
            add("inner")
        with db.atomic():
            add("second")
        raise ValueError("the verb failed after its nested blocks")
    assert bodies() == []
