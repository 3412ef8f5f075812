"""Background jobs: rq on Redis when REDIS_URL is set, otherwise in-process right after commit."""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import wraps
from importlib import import_module

from flask import current_app, has_app_context

log = logging.getLogger(__name__)
_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="inline-job")
_coalesce_lock = threading.Lock()
COALESCED = "coalesced_jobs"
COALESCE_STALE_SECONDS = 5  # a queued run that never started stops holding back new ones
_job_apps: dict[str, object] = {}
JOB_RETRY_INTERVALS = [2, 10, 30]


def queue_name(service: str, prefix: str = "") -> str:
    """Name the rq queue of a service; a prefix keeps separate deployments (or test runs) on one Redis apart."""
    return f"{prefix}{service}"


def redis_connection(url: str):
    """Open a Redis connection with short timeouts so a down Redis fails fast."""
    from redis import Redis

    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def _job_app(service: str):
    """Return the app a job runs in when no app context exists (rq worker): built once per process."""
    app = _job_apps.get(service)
    if app is None:
        app = import_module(service).create_app()
        _job_apps[service] = app
    return app


def build_job_apps(services) -> None:
    """Build the app of each service a worker process runs jobs for, once, before the first job."""
    for service in services:
        _job_app(service)


@contextmanager
def app_connection(app):
    """Push `app`'s context with a database connection; one opened here is closed (returned to the pool) after."""
    with app.app_context():
        database = app.extensions["database"]
        opened = database.connect(reuse_if_open=True)
        try:
            yield app
        finally:
            if opened and not database.is_closed():
                database.close()


def run_in_service(service: str, func, *args):
    """Call `func(*args)` inside `service`'s app context and database connection, whoever calls it."""
    if has_app_context() and current_app.config["SERVICE_NAME"] == service:
        return func(*args)
    with app_connection(_job_app(service)):
        return func(*args)


def service_job(service: str):
    """Make a job function run in `service`'s app context (rq worker, sweeper, or in-process)."""

    def decorator(func):
        @wraps(func)
        def run(*args):
            return run_in_service(service, func, *args)

        return run

    return decorator


def _run_inline(app, func, args):
    with app_connection(app):
        try:
            func(*args)
        except Exception:
            log.exception("in-process job %s failed; the sweeper will retry what it left", func.__name__)


def job_function(path: str):
    """Return the job function named by a dotted path ("lab_service.jobs.evaluate_alerts")."""
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def after_commit(database, job: str, *args, coalesce_ms: int | None = None) -> None:
    """Queue the job named `job` (a dotted path, so verbs need not import their jobs module) with `args` once the
    current transaction has committed (at once outside one); nothing if it rolls back. `coalesce_ms`: runs of the
    same job and arguments start at least this far apart, a burst of commits sharing one (see enqueue_coalesced)."""
    app = current_app._get_current_object()

    def queue() -> None:  # runs right after COMMIT: it must not fail the request whose work is committed
        try:
            with app.app_context():
                if coalesce_ms is None:
                    enqueue(job_function(job), *args)
                else:
                    enqueue_coalesced(f"{job}:{args}", coalesce_ms, job_function(job), *args)
        except Exception:
            log.exception("could not queue %s after commit; the sweeper picks up what it leaves", job)

    database.after_commit(queue)


def enqueue(func, *args) -> bool:
    """Queue `func(*args)` on rq, or run it in-process (a thread, or at once when JOBS_INLINE_SYNC); False when
    Redis did not take it (the sweeper picks the work up later: nothing is lost)."""
    app = current_app._get_current_object()
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        from rq import Queue, Retry

        try:
            queue = Queue(queue_name(app.config["SERVICE_NAME"], app.config.get("QUEUE_PREFIX", "")),
                          connection=app.extensions["redis"])
            queue.enqueue(func, *args, retry=Retry(max=len(JOB_RETRY_INTERVALS), interval=JOB_RETRY_INTERVALS))
            return True
        except Exception:
            log.warning("could not enqueue %s on Redis; leaving it to the sweeper", func.__name__)
            return False
    if app.config.get("JOBS_INLINE_SYNC"):
        _run_inline(app, func, args)
    else:
        _executor.submit(_run_inline, app, func, args)
    return True


def enqueue_coalesced(key: str, min_interval_ms: int, func, *args) -> None:
    """Queue `func(*args)` for `key` unless a run for it is queued and not started yet: that run covers us.

    In-process, runs of one key start at least `min_interval_ms` apart, so a burst of commits shares one run
    (one outbox flush, one alert check per reagent) instead of one each; a lone commit's run starts at once.
    On rq, a flag in Redis marks a queued run (see `_enqueue_coalesced_on_rq`); with JOBS_INLINE_SYNC this is a
    plain `enqueue`.
    """
    app = current_app._get_current_object()
    if app.config.get("JOBS_INLINE_SYNC"):
        enqueue(func, *args)
        return
    if app.config.get("REDIS_URL"):
        _enqueue_coalesced_on_rq(app, key, func, args)
        return
    now = time.monotonic()
    with _coalesce_lock:
        entry = app.extensions.setdefault(COALESCED, {}).setdefault(key, {"queued_at": None, "started_at": 0.0})
        if entry["queued_at"] is not None and now - entry["queued_at"] < COALESCE_STALE_SECONDS:
            return
        entry["queued_at"] = now
        delay = max(0.0, entry["started_at"] + min_interval_ms / 1000 - now)
    _executor.submit(_run_coalesced, app, entry, delay, func, args)


def coalesce_flag(service: str, key: str, prefix: str = "") -> str:
    """The Redis key that says a run of `key` is queued on `service`'s rq queue and has not started."""
    return f"{queue_name(service, prefix)}:queued:{key}"


def _enqueue_coalesced_on_rq(app, key: str, func, args) -> None:
    """Queue one rq run of `func(*args)` for `key` unless one is queued and not started, in any process.

    The flag is set (SET NX) by the commit that queues the run, and cleared by the run as it starts, before it
    reads anything (`run_coalesced_job`). A commit that finds the flag set committed before the run cleared it,
    so the run reads after that commit: it covers it. A flag whose run never started (Redis lost it, a worker
    died) lapses after COALESCE_STALE_SECONDS; the sweeper covers the outbox meanwhile. Costs a commit one Redis
    round trip where a run is queued already, instead of an rq job each (about a fifth of the lab's CPU per
    logged test under load, and the worker's per-job work).
    """
    flag = coalesce_flag(app.config["SERVICE_NAME"], key, app.config.get("QUEUE_PREFIX", ""))
    redis = app.extensions["redis"]
    try:
        if not redis.set(flag, 1, nx=True, px=COALESCE_STALE_SECONDS * 1000):
            return  # a queued run covers this commit
    except Exception:
        log.warning("could not queue %s on Redis; leaving it to the sweeper", func.__name__)
        return
    if not enqueue(run_coalesced_job, flag, func, *args):
        try:
            redis.delete(flag)  # no run is queued: the next commit must queue one
        except Exception:
            log.warning("could not clear %s on Redis; it lapses in %ss", flag, COALESCE_STALE_SECONDS)


def run_coalesced_job(flag: str, func, *args):
    """rq job: clear the run's flag (a commit from here on queues a new run), then run `func(*args)`."""
    from rq import get_current_job

    get_current_job().connection.delete(flag)
    return func(*args)


def _run_coalesced(app, entry: dict, delay: float, func, args) -> None:
    if delay:
        time.sleep(delay)
    with _coalesce_lock:  # from here on, a new commit queues a new run: this one may have read before it
        entry["queued_at"], entry["started_at"] = None, time.monotonic()
    _run_inline(app, func, args)
