"""Jobs on Redis: a real rq worker process delivers; with Redis down the sweeper still delivers. In-process
coalescing."""

import time

from common import outbox
from tests.common.test_outbox import glucose_charge, outbox_row, process_env, publish_in_transaction, stored_charges
from tests.support import PYTHON, start_process, wait_until


def test_an_rq_worker_process_delivers_queued_charges(make_app, live_server, database_urls, service_ports,
                                                       redis_url, scratch_dir):
    lab, gateway = make_app("lab_service", REDIS_URL=redis_url), make_app("gateway")
    live_server(gateway)
    message_id = publish_in_transaction(lab, glucose_charge(21))
    assert outbox_row(lab, message_id).state == "pending"  # queued on Redis, not yet run
    env = process_env(database_urls, service_ports, REDIS_URL=redis_url)
    worker = start_process([PYTHON, "-m", "manage", "worker", "--burst"], env, scratch_dir / "worker.log")
    worker.wait(timeout=60)
    assert worker.returncode == 0, (scratch_dir / "worker.log").read_text()[-2000:]
    wait_until(lambda: outbox_row(lab, message_id).state == "delivered", timeout=10, message="rq delivery")
    assert [c.key for c in stored_charges(gateway)] == ["lab:test-run:21"]


def test_with_redis_down_the_change_still_commits_and_the_sweeper_delivers(make_app, live_server):
    lab, gateway = make_app("lab_service", REDIS_URL="redis://127.0.0.1:1/0"), make_app("gateway")
    live_server(gateway)
    message_id = publish_in_transaction(lab, glucose_charge(22))
    assert outbox_row(lab, message_id).state == "pending"
    with lab.app_context():
        assert outbox.sweep() == {"delivered": 1}
    assert [c.key for c in stored_charges(gateway)] == ["lab:test-run:22"]


def test_in_process_a_burst_of_commits_shares_coalesced_runs_and_none_is_left_uncovered(make_app):
    from common.queue import enqueue_coalesced

    app = make_app("lab_service", JOBS_INLINE_SYNC=False)
    calls, runs = [], []

    def job(number):
        runs.append((time.monotonic(), number))

    with app.app_context():
        for number in range(40):
            calls.append(time.monotonic())
            enqueue_coalesced("test-burst", 100, job, number)
            time.sleep(0.005)
    wait_until(lambda: runs and runs[-1][0] > calls[-1], timeout=5, message="a run after the last call")
    time.sleep(0.3)
    starts = [started for started, _ in runs]
    # 40 calls over >= 0.2 s share runs: one at once, then one per 100 ms at most
    assert 2 <= len(runs) <= (calls[-1] - calls[0]) / 0.1 + 2 < 40
    # a run starts >= 100 ms after the one before; the job's own clock reading comes after its database connection
    # is opened, which on a loaded machine takes a few ms more for one run than another (uncoalesced: ~5 ms apart)
    gaps = [round(later - earlier, 3) for earlier, later in zip(starts, starts[1:], strict=False)]
    assert all(gap >= 0.08 for gap in gaps), gaps
    assert starts[-1] > calls[-1]  # the last call is covered by a run that started after it


def test_coalesced_runs_of_different_keys_do_not_hold_each_other_back(make_app):
    from common.queue import enqueue_coalesced

    app = make_app("lab_service", JOBS_INLINE_SYNC=False)
    runs = []
    with app.app_context():
        for key in ("a", "b", "c"):
            enqueue_coalesced(f"test-key-{key}", 10_000, runs.append, key)
    wait_until(lambda: len(runs) == 3, timeout=5, message="one run per key")
    assert sorted(runs) == ["a", "b", "c"]


def record_run(redis_url: str, flag: str, number: int) -> None:
    """A job for the rq coalescing test: note its argument and whether its flag was cleared before it ran."""
    import redis

    connection = redis.Redis.from_url(redis_url)
    connection.rpush(f"{flag}:runs", f"{number}:{'cleared' if not connection.exists(flag) else 'still set'}")


def test_on_rq_commits_share_the_queued_run_until_it_starts_and_the_next_commit_queues_another(make_app,
                                                                                                redis_url):
    from rq import Queue, SimpleWorker

    from common.queue import coalesce_flag, enqueue_coalesced, queue_name

    app = make_app("lab_service", REDIS_URL=redis_url, JOBS_INLINE_SYNC=False)
    with app.app_context():
        redis, prefix = app.extensions["redis"], app.config.get("QUEUE_PREFIX", "")
        queue = Queue(queue_name("lab_service", prefix), connection=redis)
        flag = coalesce_flag("lab_service", "test-rq-burst", prefix)
        redis.delete(flag, f"{flag}:runs")
        for number in range(5):  # a burst of commits before the worker gets to the run
            enqueue_coalesced("test-rq-burst", 100, record_run, redis_url, flag, number)
        assert queue.count == 1 and redis.exists(flag)
        SimpleWorker([queue], connection=redis).work(burst=True)
        assert [run.decode() for run in redis.lrange(f"{flag}:runs", 0, -1)] == ["0:cleared"]
        assert not redis.exists(flag)
        enqueue_coalesced("test-rq-burst", 100, record_run, redis_url, flag, 5)  # after the run started: a new one
        assert queue.count == 1
        SimpleWorker([queue], connection=redis).work(burst=True)
        assert [run.decode() for run in redis.lrange(f"{flag}:runs", 0, -1)] == ["0:cleared", "5:cleared"]
        redis.delete(f"{flag}:runs")


def test_on_rq_a_flag_whose_run_was_not_queued_is_cleared(make_app, redis_url, monkeypatch):
    from common import queue as jobs

    app = make_app("lab_service", REDIS_URL=redis_url, JOBS_INLINE_SYNC=False)
    with app.app_context():
        redis, prefix = app.extensions["redis"], app.config.get("QUEUE_PREFIX", "")
        flag = jobs.coalesce_flag("lab_service", "test-rq-refused", prefix)
        monkeypatch.setattr(jobs, "enqueue", lambda *_args: False)  # Redis took the flag, then not the job
        jobs.enqueue_coalesced("test-rq-refused", 100, record_run, redis_url, flag, 1)
        assert not redis.exists(flag)  # the next commit queues a run
