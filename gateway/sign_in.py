"""Sign-in limits: repeated wrong passwords lock an account, or a client address, for a while (429 + Retry-After).

Failures are rows in the gateway's database (`sign_in_failure`), so every gateway process counts the same ones. An
account with SIGN_IN_MAX_FAILURES failures within SIGN_IN_WINDOW_SECONDS is locked until the oldest of them leaves
the window; an address likewise after SIGN_IN_MAX_FAILURES_PER_ADDRESS (higher: a ward's computers may share one).
The lock is checked before the password is hashed (scrypt costs ~150 ms of CPU), attempts while locked are not
counted (they would only lengthen the lock), and a right password clears the account's failures, not the address's.
"""

import math
from datetime import timedelta

from flask import current_app

from common.errors import ApiError
from common.models import utcnow
from gateway.models import SignInFailure

PURGE_AFTER = timedelta(days=1)


class SignInLocked(ApiError):
    status, code, title = 429, "SIGN_IN_LOCKED", "Too many failed sign-ins"


def _limits(address: str | None) -> list[tuple[str, int]]:
    """The counted keys of an attempt (account, address) with the failures each may have in the window."""
    return [("account", current_app.config["SIGN_IN_MAX_FAILURES"]),
            ("address", current_app.config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"])] if address else [
        ("account", current_app.config["SIGN_IN_MAX_FAILURES"])]


def _keys(username: str, address: str | None) -> dict[str, str]:
    return {"account": f"account:{username.strip().lower()}"[:100], "address": f"address:{address}"[:100]}


def _locked_until(key: str, limit: int):
    """When the lock on `key` ends (None: not locked): the time its limit-th latest failure leaves the window."""
    window = timedelta(seconds=current_app.config["SIGN_IN_WINDOW_SECONDS"])
    recent = list(SignInFailure.select(SignInFailure.failed_at)
                  .where((SignInFailure.key == key) & (SignInFailure.failed_at > utcnow() - window))
                  .order_by(SignInFailure.failed_at.desc()).limit(limit))
    return recent[-1].failed_at + window if len(recent) >= limit else None


def refuse_if_locked(username: str, address: str | None) -> None:
    """Raise 429 SIGN_IN_LOCKED, with Retry-After, when the account or the address is locked."""
    keys = _keys(username, address)
    for kind, limit in _limits(address):
        until = _locked_until(keys[kind], limit)
        if until is not None:
            seconds = max(1, math.ceil((until - utcnow()).total_seconds()))
            raise SignInLocked(f"Too many failed sign-ins for this {kind}; try again in {seconds} s",
                               retry_after=seconds, locked=kind)


def note_failure(username: str, address: str | None) -> list[str]:
    """Count a wrong password against the account and the address (in the caller's transaction); return the keys
    whose lock starts with this failure."""
    keys = _keys(username, address)
    SignInFailure.insert_many([{"key": keys[kind]} for kind, _limit in _limits(address)]).execute()
    # Attempts are not counted while locked, so a lock starts exactly when the count reaches the limit.
    return [keys[kind] for kind, limit in _limits(address)
            if _locked_until(keys[kind], limit) is not None and _locked_until(keys[kind], limit + 1) is None]


def forget_failures(username: str) -> None:
    """Clear the account's failures after a right password (the address keeps its own)."""
    SignInFailure.delete().where(SignInFailure.key == _keys(username, None)["account"]).execute()


def purge_old_failures() -> None:
    """Periodic job: drop failures long out of every window."""
    horizon = utcnow() - max(PURGE_AFTER, timedelta(seconds=current_app.config["SIGN_IN_WINDOW_SECONDS"]))
    SignInFailure.delete().where(SignInFailure.failed_at < horizon).execute()
