"""The SQLite default's writer queue (common.db.SqliteWriters): one writer of a process at a time, each turn given
back however its transaction ends, a turn not had in time answered as SQLite answers a busy file.

These use a SQLite file of their own, so they run in both engines' suites alike."""

import sqlite3
import threading

import peewee
import pytest

from common.db import SqliteWriters, open_database
from common.errors import fault_of


@pytest.fixture
def db(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'writers.db'}")
    database.execute_sql("CREATE TABLE entry (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield database
    database.close()


def count(db) -> int:
    return db.execute_sql("SELECT COUNT(*) FROM entry").fetchone()[0]


def in_thread(work) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_the_make_run_default_opens_sqlite_with_the_writer_queue(db):
    assert isinstance(db, SqliteWriters)


def test_a_turn_is_given_back_after_commit_rollback_a_failure_and_a_close(db):
    with db.atomic():
        db.execute_sql("INSERT INTO entry (body) VALUES ('committed')")
    assert not db._writer.locked()
    with pytest.raises(LookupError), db.atomic():
        db.execute_sql("INSERT INTO entry (body) VALUES ('rolled back')")
        raise LookupError("the verb failed after its first write")
    assert not db._writer.locked()
    with pytest.raises(peewee.IntegrityError), db.atomic():
        db.execute_sql("INSERT INTO entry (body) VALUES (NULL)")  # the statement itself fails
    assert not db._writer.locked()
    db.begin()
    db.execute_sql("INSERT INTO entry (body) VALUES ('left open')")
    db.close()  # closed with its transaction open: SQLite rolls it back, the turn goes with it
    assert not db._writer.locked()
    assert count(db) == 1
    assert not db._writer.locked()  # a read takes no turn


def test_a_write_outside_a_transaction_waits_for_the_transaction_that_holds_the_turn(db):
    holding, release = threading.Event(), threading.Event()

    def hold_a_transaction():
        with db.atomic():
            db.execute_sql("INSERT INTO entry (body) VALUES ('first')")
            holding.set()
            release.wait(10)
        db.close()

    holder = in_thread(hold_a_transaction)
    assert holding.wait(10)
    writer = in_thread(lambda: (db.execute_sql("INSERT INTO entry (body) VALUES ('second')"), db.close()))
    writer.join(0.3)
    assert writer.is_alive(), "the autocommit write went ahead of the open transaction"
    release.set()
    holder.join(10)
    writer.join(10)
    assert not writer.is_alive() and count(db) == 2
    assert [body for (body,) in db.execute_sql("SELECT body FROM entry ORDER BY id")] == ["first", "second"]


def test_a_writer_that_does_not_get_its_turn_in_time_gets_database_busy(db):
    db._wait_seconds = 0.2  # the default is busy_timeout, 15 s
    holding, release = threading.Event(), threading.Event()

    def hold_a_transaction():
        with db.atomic():
            holding.set()
            release.wait(10)
        db.close()

    holder = in_thread(hold_a_transaction)
    assert holding.wait(10)
    try:
        with pytest.raises(sqlite3.OperationalError) as refused, db.atomic():
            db.execute_sql("INSERT INTO entry (body) VALUES ('too late')")
        assert fault_of(refused.value).code == "DATABASE_BUSY"
    finally:
        release.set()
        holder.join(10)
    with db.atomic():  # once the holder is done, the next writer goes ahead
        db.execute_sql("INSERT INTO entry (body) VALUES ('in time')")
    assert count(db) == 1


def test_32_threads_of_transactions_and_autocommit_writes_all_land_once(db):
    failures = []

    def write(number: int):
        try:
            for index in range(20):
                if index % 2:
                    with db.atomic():
                        db.execute_sql("INSERT INTO entry (body) VALUES (?)", (f"{number}-{index}",))
                        db.execute_sql("SELECT COUNT(*) FROM entry").fetchone()
                else:
                    db.execute_sql("INSERT INTO entry (body) VALUES (?)", (f"{number}-{index}",))
        except Exception as exc:  # noqa: BLE001 (any failure is the test's finding)
            failures.append(exc)
        finally:
            db.close()

    threads = [in_thread(lambda n=n: write(n)) for n in range(32)]
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert count(db) == 32 * 20
    assert db.execute_sql("SELECT COUNT(DISTINCT body) FROM entry").fetchone()[0] == 32 * 20
    assert not db._writer.locked()
