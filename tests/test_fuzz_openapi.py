"""schemathesis over every operation of every service's OpenAPI document: no answer is a 5xx, every answer is
what the document says (status, content type, body), for valid and invalid requests sent as each operation's role.

Bounded: FUZZ_EXAMPLES cases per operation and generation mode (20 by default), derandomized (the same cases on
every run)."""

import pytest

from tests.fuzzing import fuzz
from tests.support import SERVICES, free_port

# What a service's operations read from another service while they answer (the lab's margin report: billing's
# revenue); those run for real, so their answers are checked too.
READS_FROM = {"lab_service": ("billing_service",)}


@pytest.mark.parametrize("service", SERVICES)
def test_no_operation_answers_a_server_error_or_breaks_its_document(make_app, live_server, service):
    app = make_app(service, STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}")  # nothing listens: no card calls
    for other in READS_FROM.get(service, ()):
        live_server(make_app(other))
    report = fuzz(app)
    assert report.cases > 0
    assert report.failing_answers == 0, report.describe()
