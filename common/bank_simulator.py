"""The demo bank: a correctly signed transfer notification for an issued VietQR, as the hospital's bank sends it.

`python -m manage bank-transfer HD000001` uses it on a `make run` hospital so a newcomer can watch a bill turn paid;
the tests send their notifications through the same functions. It signs with BANK_WEBHOOK_SECRET exactly as
billing checks (`X-Signature: sha256=<HMAC-SHA256 of the body>`) and posts to the gateway's public webhook path,
which forwards it to billing. Never part of a production process: it only knows what it is given.
"""

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime

import requests

WEBHOOK_PATH = "/api/v1/billing/webhooks/bank-transfer"


def notification(reference: str, amount: int, account: str, *, transaction_id: str | None = None,
                 occurred_at: datetime | None = None) -> dict:
    """Return the bank's notice of a transfer of `amount` đồng to `account` whose memo carries the bill reference
    (banks put their own text around the payer's memo, as here)."""
    transaction_id = transaction_id or f"FT{datetime.now(UTC):%y%m%d}{secrets.randbelow(10**8):08d}"
    return {"transaction_id": transaction_id, "account": account, "amount": amount,
            "memo": f"MBVCB.{transaction_id[-8:]}.{reference} thanh toan vien phi.CT tu 0011004123456",
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat()}


def signed(notice: dict, secret: str) -> tuple[bytes, dict[str, str]]:
    """Return the notice's body bytes and the headers that sign exactly those bytes."""
    body = json.dumps(notice, ensure_ascii=False, separators=(",", ":")).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Signature": f"sha256={signature}"}


def send(gateway_url: str, notice: dict, secret: str, timeout: float = 10) -> requests.Response:
    """Post a signed notice to the hospital's bank webhook through the gateway; return the answer."""
    body, headers = signed(notice, secret)
    return requests.post(gateway_url.rstrip("/") + WEBHOOK_PATH, data=body, headers=headers, timeout=timeout)
