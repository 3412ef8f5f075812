"""schemathesis over every operation of every service's OpenAPI document: no answer is a 5xx, every answer is
what the document says (status, content type, body), for valid and invalid requests sent as each operation's role.

Bounded: FUZZ_EXAMPLES cases per operation and generation mode (20 by default), derandomized (the same cases on
every run)."""

import pytest

from tests.fuzzing import fuzz
from tests.support import SERVICES, free_port


@pytest.mark.parametrize("service", SERVICES)
def test_no_operation_answers_a_server_error_or_breaks_its_document(make_app, service):
    app = make_app(service, STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}")  # nothing listens: no card calls
    report = fuzz(app)
    assert report.cases > 0
    assert report.failing_answers == 0, report.describe()
