"""Jobs on Redis: a real rq worker process delivers; with Redis down the sweeper still delivers."""

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
