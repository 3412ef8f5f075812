"""Operations: migrate, seed, run everything (make run), the outbox sweeper and the rq worker.

Usage: python -m manage {run,migrate,makemigration,seed,create-admin,sweep,worker,procfile,health,card-sandbox,
bank-transfer,card-terminal,verify,digest}
"""

import argparse
import getpass
import os
import re
import sys
import time
from importlib import import_module

from common.config import SERVICE_PORTS, database_url_for, development_secrets, service_ports, var_dir
from common.supervisor import supervise
from seeds.demo_payments import (
    CARD_SANDBOX_PORT,
    bank_transfer,
    card_sandbox,
    card_sandbox_wanted,
    card_terminal,
    default_card_provider,
)

SERVICES = tuple(SERVICE_PORTS)
DEMO_LOGINS = ("labtech", "labhead", "pharmacist", "cashier", "finance", "admin")


def _app(service: str):
    return import_module(service).create_app()


def migrate(services=SERVICES) -> None:
    """Create databases if needed and apply every pending migration."""
    from common.db import ensure_postgres_database, run_migrations

    for service in services:
        ensure_postgres_database(database_url_for(service))
        app = _app(service)
        applied = run_migrations(app.extensions["database"], import_module(service).MIGRATIONS_DIR)
        print(f"{service}: {len(applied)} migration(s) applied")


def make_migration(service: str, name: str) -> None:
    """Write a migration bringing `service`'s schema up to its models."""
    from common.db import create_migration, service_models

    app = _app(service)
    models = service_models(service)
    print(create_migration(app.extensions["database"], import_module(service).MIGRATIONS_DIR, name, models))


def seed(services=SERVICES) -> None:
    """Load demo data into every service whose database is empty (never in production)."""
    from seeds import seed_service

    if os.environ.get("APP_ENV", "production") == "production":
        sys.exit("seed: refusing to load demo data (users with the password 'demo') with APP_ENV=production; "
                 "create the first administrator with: python -m manage create-admin <username>")
    for service in services:
        app = _app(service)
        with app.app_context():
            loaded = seed_service(service)
        print(f"{service}: {'demo data loaded' if loaded else 'already has data, left alone'}")


MIN_ADMIN_PASSWORD = 12


def create_admin(username: str, full_name: str) -> None:
    """Create an administrator account, its password from ADMIN_PASSWORD or typed twice."""
    from gateway.models import User, db
    from gateway.services import create_user

    if not re.fullmatch(r"[a-z0-9._-]{3,64}", username):
        sys.exit("create-admin: the username must be 3 to 64 lower-case letters, digits, '.', '_' or '-'")
    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass(f"Password for {username}: ")
    if not os.environ.get("ADMIN_PASSWORD") and getpass.getpass("Once more: ") != password:
        sys.exit("create-admin: the two passwords differ; nothing was created")
    if len(password) < MIN_ADMIN_PASSWORD:
        sys.exit(f"create-admin: the password must be at least {MIN_ADMIN_PASSWORD} characters")
    app = _app("gateway")
    with app.app_context(), db.atomic():
        if User.select().where(User.username == username).exists():
            sys.exit(f"create-admin: a user named {username!r} already exists; nothing was changed")
        create_user(username, password, "admin", full_name)
    print(f"gateway: administrator {username!r} created; sign in at POST /api/v1/auth/token")


def sweep(interval_seconds: int = 2, once: bool = False) -> None:
    """Deliver due outbox messages of every service, forever (the sweeper process)."""
    from common.outbox import sweep as sweep_outbox
    from common.queue import app_connection

    apps = {service: _app(service) for service in SERVICES}
    heartbeat = _sweeper_heartbeat()
    heartbeat.parent.mkdir(parents=True, exist_ok=True)
    while True:
        heartbeat.touch()  # `python -m manage health sweeper` reads its age
        for service, app in apps.items():
            try:
                # A fresh connection each round: one broken while PostgreSQL was down is not kept.
                with app_connection(app):
                    sweep_outbox(settled_ms=app.config["OUTBOX_SWEEP_SETTLE_MS"])
                    for job in app.extensions.get("periodic_jobs", []):
                        job()
            except Exception as exc:  # a down database must not stop the sweeper; it tries again
                print(f"sweeper: {service}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        if once:
            return
        time.sleep(interval_seconds)


HEARTBEAT_STALE_SECONDS = 30


def _sweeper_heartbeat():
    """The file a sweeper touches every round (one per host: VAR_DIR may be shared by several containers)."""
    import socket

    return var_dir() / "run" / f"sweeper-{socket.gethostname()}.heartbeat"


def health(name: str) -> None:
    """Exit 0 when `name` (a service, the worker or the sweeper) on this host is working; 1 otherwise, saying why."""
    import socket
    import urllib.request

    try:
        if name in SERVICES:
            port = service_ports()[name]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as answer:
                problem = None if answer.status == 200 else f"/healthz answered {answer.status}"
        elif name == "sweeper":
            age = time.time() - _sweeper_heartbeat().stat().st_mtime
            problem = None if age < HEARTBEAT_STALE_SECONDS else f"no sweep round for {age:.0f} s"
        else:
            from rq import Worker

            from common.queue import redis_connection

            workers = Worker.all(connection=redis_connection(os.environ["REDIS_URL"]))
            problem = None if any(w.hostname == socket.gethostname() for w in workers) else "no rq worker here"
    except Exception as exc:  # unreachable, missing file, no REDIS_URL: all mean "not healthy"
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        sys.exit(f"{name}: unhealthy: {problem}")
    print(f"{name}: healthy")


def verify(services=SERVICES, apps=None) -> int:
    """Check every ledger chain of `services`; print each broken stream's first bad row; return how many broke."""
    import json

    from common.integrity import verify as verify_chains
    from common.queue import app_connection

    broken = 0
    for service in services:
        app = (apps or {}).get(service) or _app(service)
        with app_connection(app):
            report = verify_chains()
        for chain in report["chains"]:
            state = "ok" if not chain["breaks"] else f"{len(chain['breaks'])} broken stream(s)"
            print(f"{service}: {chain['chain']}: {chain['streams']} stream(s), {chain['rows']} row(s): {state}")
            for found in chain["breaks"]:
                broken += 1
                print("  " + json.dumps(found, ensure_ascii=False))
    return broken


def digest(services=SERVICES, apps=None) -> None:
    """Write today's digest of every stream head of `services` (the sweeper writes one a day by itself)."""
    from common.integrity import write_digest
    from common.queue import app_connection

    for service in services:
        app = (apps or {}).get(service) or _app(service)
        with app_connection(app):
            print(f"{service}: {write_digest()}")


def worker(burst: bool = False) -> None:
    """Run an rq worker on every service's queue (only meaningful with REDIS_URL).

    Jobs run in this process (rq's SimpleWorker) in apps built once here: no fork and no app build per job, which
    cost 1-3 s a job and held alerts back.
    """
    from rq import SimpleWorker

    from common.queue import build_job_apps, queue_name, redis_connection

    url = os.environ.get("REDIS_URL")
    if not url:
        print("worker: REDIS_URL is not set; jobs run in-process, nothing to do", file=sys.stderr)
        return
    prefix = os.environ.get("QUEUE_PREFIX", "")
    queues = [queue_name(service, prefix) for service in SERVICES]
    build_job_apps(SERVICES)
    SimpleWorker(queues, connection=redis_connection(url)).work(with_scheduler=not burst, burst=burst)


def _load_demo_secrets() -> None:
    """Generate the demo's secrets once into var/secrets.env and put them in the environment."""
    for name, value in development_secrets().items():
        os.environ.setdefault(name, value)  # values set in the environment win
    os.environ.setdefault("APP_ENV", "development")


def procfile() -> str:
    """Return the process list: four services, the sweeper, and the worker when REDIS_URL is set."""
    host = os.environ.get("BIND_HOST", "127.0.0.1")
    workers = os.environ.get("WEB_CONCURRENCY", "1")  # one process per service on a 2-core host: see decisions
    lines = [  # <SERVICE>_BIND_HOST: `make run-site` puts the gateway (only) on the LAN
        f"{service}: {sys.executable} -m gunicorn --config python:common.gunicorn_conf "
        f"--bind {os.environ.get(f'{service.upper()}_BIND_HOST', host)}:{port} --workers {workers} "
        f"--worker-class gthread --no-control-socket --threads 8 --access-logfile - '{service}:create_app()'"
        for service, port in service_ports().items()
    ]
    lines.append(f"sweeper: {sys.executable} -m manage sweep")
    if card_sandbox_wanted():
        lines.append(f"card_sandbox: {sys.executable} -m manage card-sandbox")
    if os.environ.get("REDIS_URL"):
        lines.append(f"worker: {sys.executable} -m manage worker")
    return "\n".join(lines) + "\n"


def run() -> None:
    """Migrate, seed, print where everything is, and run all processes, restarting one that dies."""
    _load_demo_secrets()
    default_card_provider()
    print(f"Sign in: http://127.0.0.1:{service_ports()['gateway']}/   (ready when the list of services below shows; "
          "demo logins, password 'demo')\n", flush=True)
    migrate()
    seed()
    path = var_dir() / "Procfile"
    path.write_text(procfile())
    ports = service_ports()
    print(f"\nSign in: http://127.0.0.1:{ports['gateway']}/   (demo logins below, password 'demo')")
    print("\nHospital inventory & billing is starting:")
    for service, port in ports.items():
        print(f"  {service:17} http://127.0.0.1:{port}   docs: http://127.0.0.1:{port}/docs")
    print(f"  Public API (use this): http://127.0.0.1:{ports['gateway']}/api/v1/...")
    if os.environ.get("GATEWAY_BIND_HOST", "127.0.0.1") != "127.0.0.1":
        print(f"  On the LAN: http://<this server's address>:{ports['gateway']}/ (the gateway only; HTTPS in front "
              "of it lets the benches open offline: see README 'A site runs alone')")
    print(f"  Demo logins (password 'demo'): {', '.join(DEMO_LOGINS)}")
    if card_sandbox_wanted():
        print(f"  Card payments: Stripe-compatible sandbox (localstripe) at {os.environ['STRIPE_API_BASE']}")
    print("  Demo bank: python -m manage bank-transfer HD000001   (pays the bill's VietQR with a signed notice)")
    print("  Demo card terminal: python -m manage card-terminal HD000001   (confirms its card payment, test card)")
    print(f"  Get a token: curl -s -X POST http://127.0.0.1:{ports['gateway']}/api/v1/auth/token "
          "-H 'Content-Type: application/json' -d '{\"username\":\"cashier\",\"password\":\"demo\"}'")
    print("  A process that dies is restarted; Ctrl-C stops everything.\n", flush=True)
    sys.exit(supervise(path, var_dir() / "run", os.getcwd()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m manage", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run")
    commands.add_parser("migrate").add_argument("services", nargs="*", default=list(SERVICES))
    make = commands.add_parser("makemigration")
    make.add_argument("service", choices=SERVICES)
    make.add_argument("name")
    commands.add_parser("seed").add_argument("services", nargs="*", default=list(SERVICES))
    admin = commands.add_parser("create-admin", help="create an administrator (password from ADMIN_PASSWORD or typed)")
    admin.add_argument("username")
    admin.add_argument("--full-name", default="Quản trị hệ thống")
    sweeper = commands.add_parser("sweep")
    sweeper.add_argument("--once", action="store_true")
    commands.add_parser("worker").add_argument("--burst", action="store_true", help="exit when the queues are empty")
    commands.add_parser("procfile")
    commands.add_parser("card-sandbox", help="run localstripe with billing's webhook registered (make run)")
    transfer = commands.add_parser("bank-transfer", help="demo: send the signed bank notification paying a bill's "
                                                         "VietQR")
    transfer.add_argument("reference", help="the bill reference, e.g. HD000001")
    transfer.add_argument("--amount", type=int, default=None, help="đồng (the QR's amount when absent)")
    terminal = commands.add_parser("card-terminal", help="demo: pay a bill's waiting card request with a test card")
    terminal.add_argument("reference", help="the bill reference, e.g. HD000001")
    terminal.add_argument("--card", default="pm_card_visa", help="a sandbox test payment method "
                                                                 "(pm_card_chargeDeclined declines)")
    commands.add_parser("health", help="exit 0 when a process on this host works (for health checks)").add_argument(
        "name", choices=(*SERVICES, "worker", "sweeper"))
    commands.add_parser("verify", help="check the ledgers' hash chains; exit 1 when one is broken").add_argument(
        "services", nargs="*", default=list(SERVICES))
    commands.add_parser("digest", help="write today's digest of every chain head").add_argument(
        "services", nargs="*", default=list(SERVICES))
    args = parser.parse_args(argv)
    if args.command in ("migrate", "seed", "makemigration", "create-admin", "sweep", "worker", "card-sandbox",
                        "bank-transfer", "card-terminal", "verify", "digest"):
        if args.command != "worker" and not os.environ.get("JWT_SECRET"):
            _load_demo_secrets()
    if args.command == "run":
        run()
    elif args.command == "migrate":
        migrate(tuple(args.services))
    elif args.command == "makemigration":
        make_migration(args.service, args.name)
    elif args.command == "seed":
        seed(tuple(args.services))
    elif args.command == "create-admin":
        create_admin(args.username, args.full_name)
    elif args.command == "sweep":
        sweep(once=args.once)
    elif args.command == "worker":
        worker(burst=args.burst)
    elif args.command == "procfile":
        print(procfile(), end="")
    elif args.command == "health":
        health(args.name)
    elif args.command == "card-sandbox":
        card_sandbox(int(os.environ.get("CARD_SANDBOX_PORT", CARD_SANDBOX_PORT)))
    elif args.command == "bank-transfer":
        bank_transfer(args.reference, args.amount)
    elif args.command == "card-terminal":
        card_terminal(args.reference, args.card)
    elif args.command == "verify":
        if verify(tuple(args.services)):
            sys.exit(1)
    elif args.command == "digest":
        digest(tuple(args.services))


if __name__ == "__main__":
    main()
