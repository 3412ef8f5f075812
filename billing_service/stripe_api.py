"""The Stripe-compatible card API over `requests`: form-encoded bodies, bearer key, Idempotency-Key, VND amounts."""

import requests
from flask import current_app

from common.clients import session
from common.errors import ApiError, UpstreamTimeout, UpstreamUnavailable

CURRENCY = "vnd"  # zero-decimal: amount=150000 is 150 000 đồng


class PaymentProviderRejected(ApiError):
    status, code, title = 502, "PAYMENT_PROVIDER_REJECTED", "The card payment provider refused the request"


def call(method: str, path: str, data: dict | None = None, idempotency_key: str | None = None) -> dict:
    """Call the card API and return its JSON object; raise an ApiError the cashier can act on otherwise."""
    config = current_app.config
    headers = {"Authorization": f"Bearer {config['STRIPE_SECRET_KEY']}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        response = session().request(method, config["STRIPE_API_BASE"] + path, data=data, headers=headers,
                                     timeout=config["HTTP_TIMEOUT_MS"] / 1000)
    except requests.Timeout:
        raise UpstreamTimeout("The card payment provider did not answer in time",
                              code="PAYMENT_PROVIDER_TIMEOUT") from None
    except requests.RequestException:
        raise UpstreamUnavailable("The card payment provider is not reachable right now",
                                  code="PAYMENT_PROVIDER_UNAVAILABLE") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise PaymentProviderRejected(f"The card payment provider answered {response.status_code}: "
                                      f"{error.get('message', 'no message')}", provider_status=response.status_code)
    return body


def create_payment_intent(amount: int, metadata: dict[str, str], idempotency_key: str) -> dict:
    """Create a card PaymentIntent for `amount` đồng, to be confirmed by the patient's card or terminal."""
    data = {"amount": str(amount), "currency": CURRENCY, "payment_method_types[]": ["card"]}
    data.update({f"metadata[{k}]": v for k, v in metadata.items()})
    return call("POST", "/v1/payment_intents", data, idempotency_key)


def cancel_payment_intent(intent_id: str, idempotency_key: str) -> dict:
    """Cancel a PaymentIntent that has not been paid."""
    return call("POST", f"/v1/payment_intents/{intent_id}/cancel", {}, idempotency_key)


def refund_payment_intent(intent_id: str, amount: int, idempotency_key: str) -> dict:
    """Refund part or all of a paid PaymentIntent."""
    return call("POST", "/v1/refunds", {"payment_intent": intent_id, "amount": str(amount)}, idempotency_key)
