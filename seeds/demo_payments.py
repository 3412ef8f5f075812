"""The demo's payment stand-ins, run by `python -m manage`: the card sandbox (localstripe with billing's webhook), a
bank that pays a bill's VietQR with a signed notification, and a card terminal that confirms a card payment."""

import os
import sys
from importlib import import_module

from common.config import service_ports

CARD_SANDBOX_PORT = 8420  # localstripe's own default, and billing's default STRIPE_API_BASE


def card_sandbox(port: int) -> None:
    """Run localstripe (the Stripe-compatible card API of the demo) with billing's webhook already registered.

    localstripe pickles its state to a fixed file in /tmp on every write: the sandbox keeps it in memory instead (a
    fresh sandbox per start; billing keeps what was paid) and binds loopback only (its own launcher binds all).
    """
    import localstripe.resources
    from aiohttp import web
    from localstripe.server import app
    from localstripe.webhooks import register_webhook

    localstripe.resources.Store.dump_to_disk = lambda self: None
    billing = f"http://127.0.0.1:{service_ports()['billing_service']}/api/v1/billing/webhooks/stripe"
    register_webhook("billing", billing, os.environ["STRIPE_WEBHOOK_SECRET"], None)
    print(f"card sandbox: Stripe-compatible API on http://127.0.0.1:{port}, webhooks to {billing}", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def default_card_provider() -> None:
    """Billing pays cards through the demo's sandbox unless STRIPE_API_BASE names a provider."""
    port = os.environ.get("CARD_SANDBOX_PORT", CARD_SANDBOX_PORT)
    os.environ.setdefault("STRIPE_API_BASE", f"http://127.0.0.1:{port}")


def card_sandbox_wanted() -> bool:
    """Start the card sandbox unless a card provider was configured (STRIPE_API_BASE set to another address)."""
    own = f"http://127.0.0.1:{os.environ.get('CARD_SANDBOX_PORT', CARD_SANDBOX_PORT)}"
    return os.environ.get("STRIPE_API_BASE", own).rstrip("/") == own


def bank_transfer(reference: str, amount: int | None) -> None:
    """Send the signed bank notification of a transfer paying a bill's issued VietQR (demo only)."""
    from billing_service.models import PaymentRequest
    from common.bank_simulator import notification, send

    if os.environ.get("APP_ENV", "production") == "production":
        sys.exit("bank-transfer: a simulated bank is for demo hospitals only (APP_ENV=production)")
    billing = import_module("billing_service").create_app()
    reference = reference.strip().upper()
    with billing.app_context():
        issued = (PaymentRequest.select().where((PaymentRequest.reference == reference)
                                                & (PaymentRequest.method == "vietqr")
                                                & (PaymentRequest.state.in_(("pending", "partially_paid"))))
                  .order_by(PaymentRequest.id.desc()).first())
        if issued is None and amount is None:
            sys.exit(f"bank-transfer: bill {reference} has no VietQR waiting to be paid; issue one at the cashier "
                     "desk (or give --amount)")
        amount = amount or issued.amount - issued.paid_amount
    gateway = f"http://127.0.0.1:{service_ports()['gateway']}"
    notice = notification(reference, amount, billing.config["HOSPITAL_BANK_ACCOUNT"])
    answer = send(gateway, notice, os.environ["BANK_WEBHOOK_SECRET"])
    print(f"bank-transfer: {amount:,} đ".replace(",", ".") + f" for {reference} sent as {notice['transaction_id']}: "
          f"{answer.status_code} {answer.text.strip()}")
    if answer.status_code != 200:
        sys.exit(1)


def card_terminal(reference: str, payment_method: str) -> None:
    """Play the card terminal (demo only): pay a bill's waiting card request with a sandbox test card; billing then
    learns the outcome from the sandbox's signed webhook, as from a real provider."""
    import requests

    from billing_service.models import PaymentRequest

    if os.environ.get("APP_ENV", "production") == "production":
        sys.exit("card-terminal: a simulated card terminal is for demo hospitals only (APP_ENV=production)")
    default_card_provider()
    billing = import_module("billing_service").create_app()
    reference = reference.strip().upper()
    with billing.app_context():
        waiting = (PaymentRequest.select().where((PaymentRequest.reference == reference)
                                                 & (PaymentRequest.method == "card")
                                                 & (PaymentRequest.state.in_(("pending", "failed"))))
                   .order_by(PaymentRequest.id.desc()).first())
        if waiting is None:
            sys.exit(f"card-terminal: bill {reference} has no card payment waiting; press 'Pay by card' at the desk")
    base, key = billing.config["STRIPE_API_BASE"], billing.config["STRIPE_SECRET_KEY"]
    headers = {"Authorization": f"Bearer {key}"}
    intent = f"{base}/v1/payment_intents/{waiting.provider_reference}"
    requests.post(intent, data={"payment_method": payment_method}, headers=headers, timeout=10).raise_for_status()
    answer = requests.post(f"{intent}/confirm", headers=headers, timeout=10)
    print(f"card-terminal: {waiting.provider_reference} with {payment_method}: {answer.json().get('status')}"
          " (the bill turns paid when the signed webhook reaches billing)")
