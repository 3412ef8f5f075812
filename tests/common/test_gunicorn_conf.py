"""Every service process starts with common.gunicorn_conf: its app's start-up objects are frozen out of the garbage
collector's full collections (each used to hold the GIL for 45-110 ms under load), and threads switch every 1 ms."""

import re
import subprocess
from pathlib import Path

import manage
from tests.support import PYTHON

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG = "--config python:common.gunicorn_conf"


def test_a_worker_freezes_what_its_app_built_once_the_app_is_loaded(tmp_path):
    probe = ("import gc, gateway; gateway.create_app({'APP_ENV': 'test'}); before = gc.get_freeze_count(); "
             "from common import gunicorn_conf; gunicorn_conf.post_worker_init(None); "
             "import sys; print(sys.getswitchinterval(), before, gc.get_freeze_count())")
    out = subprocess.run([PYTHON, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path)})
    switch, before, after = out.stdout.split()[-3:]
    assert int(before) == 0 and int(after) > 50_000  # the gateway's app: Flask, schemas, models, translations
    assert float(switch) == 0.001  # a request thread back from the database waits less for the GIL


def test_every_launcher_starts_the_services_with_it(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    lines = dict(line.split(": ", 1) for line in manage.procfile().splitlines())
    for service in ("gateway", "lab_service", "pharmacy_service", "billing_service"):
        assert f"-m gunicorn {CONFIG} " in lines[service]
    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    assert len(re.findall(r'"gunicorn --config python:common\.gunicorn_conf ', compose)) == 4
    assert '"--config", "python:common.gunicorn_conf"' in (PROJECT_ROOT / "bench" / "harness.py").read_text()
