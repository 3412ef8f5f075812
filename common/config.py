"""Typed environment readers and the settings every service shares.

`os.environ` is read here and in each service's `config.py`, nowhere else. A bad value stops the process at start.
"""

import fcntl
import os
import re
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "change-me"
SECRET_MIN_BYTES = 32
DEVELOPMENT_SECRETS = ("JWT_SECRET", "SERVICE_TOKEN", "BANK_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET")
SOURCE_SUFFIXES = (".py", ".md", ".yml", ".yaml", ".toml", ".env", ".txt", ".cfg", ".ini", ".json", ".sh")
SERVICE_PORTS = {"gateway": 8000, "lab_service": 8001, "pharmacy_service": 8002, "billing_service": 8003}
SERVICE_PATH_PREFIX = {"lab_service": "lab", "pharmacy_service": "pharmacy", "billing_service": "billing"}


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the process must not start."""


def env_str(name: str, default: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """Read a string setting, stripping whitespace; empty counts as unset."""
    value = (env if env is not None else os.environ).get(name, "").strip()
    return value or default


def env_int(name: str, default: int, minimum: int | None = None, env: Mapping[str, str] | None = None) -> int:
    """Read an integer setting, refusing anything that is not a whole number in range."""
    raw = env_str(name, env=env)
    if raw is None:
        return default
    if not re.fullmatch(r"-?\d+", raw):
        raise ConfigError(f"{name} must be a whole number, got {raw!r}")
    value = int(raw)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    """Read a boolean setting given as true/false/1/0/yes/no."""
    raw = env_str(name, env=env)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_url(name: str, default: str | None = None, schemes: tuple[str, ...] = ("http", "https"),
            env: Mapping[str, str] | None = None) -> str | None:
    """Read a URL setting whose scheme must be one of `schemes`."""
    raw = env_str(name, default, env=env)
    if raw is None:
        return None
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in schemes:
        raise ConfigError(f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}")
    return raw.rstrip("/")


def bhyt_facility_code(env: Mapping[str, str] | None = None) -> str:
    """Read MA_CSKCB, the hospital's 5-character BHYT facility code (claims, check-in)."""
    code = env_str("BHYT_FACILITY_CODE", "01001", env=env)
    if not re.fullmatch(r"[0-9A-Z]{5}", code):
        raise ConfigError(f"BHYT_FACILITY_CODE must be 5 digits or capital letters, got {code!r}")
    return code


def var_dir(env: Mapping[str, str] | None = None) -> Path:
    """Return the folder for local state (SQLite files, demo secrets, the generated Procfile)."""
    return Path(env_str("VAR_DIR", str(PROJECT_ROOT / "var"), env=env))


def service_ports(env: Mapping[str, str] | None = None) -> dict[str, int]:
    """Return the port of every service, from <SERVICE>_PORT or the standard one."""
    return {name: env_int(f"{name.upper()}_PORT", port, minimum=1, env=env) for name, port in SERVICE_PORTS.items()}


def database_url_for(service: str, env: Mapping[str, str] | None = None) -> str:
    """Return the database URL of a service: its own variable, DATABASE_URL + its name, or a SQLite file."""
    schemes = ("sqlite", "postgres", "postgresql")
    own = env_url(f"{service.upper()}_DATABASE_URL", schemes=schemes, env=env)
    if own:
        return own
    shared = env_url("DATABASE_URL", schemes=schemes, env=env)
    if shared:
        if shared.startswith("sqlite"):
            return f"sqlite:///{var_dir(env) / (service + '.db')}"
        base = shared.rsplit("/", 1)[0] if shared.count("/") > 2 else shared
        return f"{base}/{service}"
    return f"sqlite:///{var_dir(env) / (service + '.db')}"


def service_urls(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the base URL of every service, from <SERVICE>_URL or the local default port."""
    return {
        name: env_url(f"{name.upper()}_URL", f"http://127.0.0.1:{port}", env=env)
        for name, port in service_ports(env).items()
    }


def base_settings(service: str, env: Mapping[str, str] | None = None) -> dict:
    """Build the settings every service needs from the environment, validated."""
    app_env = env_str("APP_ENV", "production", env=env)
    if app_env not in ("production", "development", "test"):
        raise ConfigError(f"APP_ENV must be production, development or test, got {app_env!r}")
    settings = {
        "SERVICE_NAME": service,
        "APP_ENV": app_env,
        "DATABASE_URL": database_url_for(service, env=env),
        "REDIS_URL": env_url("REDIS_URL", schemes=("redis", "rediss", "unix"), env=env),
        "JWT_SECRET": env_str("JWT_SECRET", env=env),
        "SERVICE_TOKEN": env_str("SERVICE_TOKEN", env=env),
        "JWT_TTL_SECONDS": env_int("JWT_TTL_SECONDS", 3600, minimum=60, env=env),
        "HTTP_TIMEOUT_MS": env_int("HTTP_TIMEOUT_MS", 5000, minimum=100, env=env),
        "MAX_CONTENT_LENGTH": env_int("MAX_BODY_BYTES", 1_048_576, minimum=1024, env=env),
        "OUTBOX_MAX_BACKOFF_SECONDS": env_int("OUTBOX_MAX_BACKOFF_SECONDS", 300, minimum=1, env=env),
        "OUTBOX_MAX_ATTEMPTS": env_int("OUTBOX_MAX_ATTEMPTS", 10, minimum=1, env=env),
        "OUTBOX_FLUSH_INTERVAL_MS": env_int("OUTBOX_FLUSH_INTERVAL_MS", 250, minimum=0, env=env),
        # The sweeper leaves a message due less than this long ago to the after-commit flush (common.outbox.sweep)
        "OUTBOX_SWEEP_SETTLE_MS": env_int("OUTBOX_SWEEP_SETTLE_MS", 2000, minimum=0, env=env),
        "ALERT_CHECK_INTERVAL_MS": env_int("ALERT_CHECK_INTERVAL_MS", 250, minimum=0, env=env),
        "IDEMPOTENCY_RETENTION_HOURS": env_int("IDEMPOTENCY_RETENTION_HOURS", 72, minimum=72, env=env),
        "INTEGRITY_CHECK_SECONDS": env_int("INTEGRITY_CHECK_SECONDS", 900, minimum=0, env=env),
        "INTEGRITY_DIGEST_DIR": env_str("INTEGRITY_DIGEST_DIR", str(var_dir(env) / "digests"), env=env),
        "JOBS_INLINE_SYNC": env_bool("JOBS_INLINE_SYNC", False, env=env),
        "QUEUE_PREFIX": env_str("QUEUE_PREFIX", "", env=env),
        "SERVICE_URLS": service_urls(env=env),
        "LOG_LEVEL": env_str("LOG_LEVEL", "INFO", env=env),
    }
    return settings


def require_secrets(settings: Mapping, names: tuple[str, ...]) -> None:
    """Refuse to start in production with a secret that is missing, shorter than 32 bytes, written in the source
    (a default, a demo or test value: public), or the same as another secret."""
    if settings.get("APP_ENV") != "production":
        return
    values = {name: settings.get(name) or "" for name in names}
    published = _written_in_source(tuple(v for v in values.values() if len(v.encode()) >= SECRET_MIN_BYTES))
    problems = []
    for name, value in values.items():
        twin = next((other for other in names if other != name and values[other] == value), None)
        if not value:
            problems.append(f"{name} is not set")
        elif len(value.encode()) < SECRET_MIN_BYTES:
            problems.append(f"{name} is shorter than {SECRET_MIN_BYTES} bytes")
        elif value == DEFAULT_SECRET or value in published:
            problems.append(f"{name} is a value written in the source code (public)")
        elif twin is not None:
            problems.append(f"{name} is the same as {twin}")
    if problems:
        raise ConfigError("Refusing to start: " + "; ".join(problems)
                          + ". Set each to its own random value, e.g. python3 -c 'import secrets; "
                            "print(secrets.token_urlsafe(32))'")


@lru_cache(maxsize=8)
def _written_in_source(values: tuple[str, ...]) -> frozenset[str]:
    """Those of `values` that appear in a text file of the project (code, docs, tests, deployment files)."""
    found: set[str] = set()
    skipped = {".git", ".venv", "var", "node_modules", "__pycache__"}
    for folder, subfolders, files in os.walk(PROJECT_ROOT):
        subfolders[:] = [name for name in subfolders if name not in skipped and not name.startswith(".")]
        for name in files:
            if name.endswith(SOURCE_SUFFIXES) or name in ("Makefile", "Procfile", "Dockerfile"):
                try:
                    text = (Path(folder) / name).read_text(errors="ignore")
                except OSError:
                    continue
                found.update(value for value in values if value in text)
    return frozenset(found)


def development_secrets(names: tuple[str, ...] = DEVELOPMENT_SECRETS, folder: Path | None = None) -> dict[str, str]:
    """Return this host's development secrets from <VAR_DIR>/secrets.env, generating random ones the first time.

    Every process of a development host (`make run`, a service started by hand) reads the same file, so tokens and
    service calls agree; nothing falls back to a value written in the source.
    """
    folder = folder or var_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.env"
    with open(folder / "secrets.env.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting at once must not each write their own
        stored = dict(line.partition("=")[::2] for line in (path.read_text().splitlines() if path.exists() else ())
                      if "=" in line)
        missing = [name for name in names if not stored.get(name)]
        if missing:
            stored.update({name: secrets.token_urlsafe(32) for name in missing})
            draft = folder / f"secrets.env.{os.getpid()}"
            draft.write_text("".join(f"{name}={value}\n" for name, value in stored.items()))
            draft.chmod(0o600)
            draft.replace(path)
    return {name: stored[name] for name in names}
