"""Drive schemathesis over every operation of a service's OpenAPI document, through the WSGI app, as the role
each operation is for; collect every 5xx and every answer that breaks the document, instead of stopping at one."""

import os
import re
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi import from_wsgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import bearer, service_headers

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))  # per operation and generation mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


@dataclass
class FuzzReport:
    """What a run found: every failing answer, by operation, check and status."""

    cases: int = 0
    failing_answers: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    samples: dict = field(default_factory=dict)

    def add(self, label: str, status: int, group: FailureGroup, curl: str) -> None:
        self.failing_answers += 1
        for failure in group.exceptions:
            key = (label, type(failure).__name__, status)
            self.failures[key] += 1
            self.samples.setdefault(key, f"{failure.title}: {failure.message[:300]}\n    {curl[:400]}")

    def escaped(self, label: str, exc: Exception, curl: str) -> None:
        self.failing_answers += 1
        self.statuses[500] += 1
        key = (label, f"escaped {type(exc).__name__}", 500)
        self.failures[key] += 1
        self.samples.setdefault(key, f"{exc}\n    {curl[:400]}")

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def describe(self) -> str:
        lines = [f"{self.cases} cases, {self.failing_answers} failing answers ({self.server_errors} of them 5xx); "
                 f"statuses {dict(sorted(self.statuses.items()))}:"]
        for key, count in sorted(self.failures.items()):
            lines.append(f"  {count:4d} × {key[0]} {key[1]} {key[2]}\n    {self.samples[key]}")
        return "\n".join(lines)


def headers_by_operation(app) -> dict[tuple[str, str], dict]:
    """The auth headers of the role each route asks for (its first role; the service token inside)."""
    found = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        path = _RULE_PARAMETER.sub(r"{\1}", rule.rule)
        roles = getattr(view, "roles", None)
        if getattr(view, "service_only", False):
            headers = service_headers()
        elif roles:
            headers = bearer(roles[0])
        else:
            headers = {}
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found[(method, path)] = headers
    return found


def fuzz(app, examples: int = EXAMPLES) -> FuzzReport:
    """Send `examples` positive and negative cases to every operation of the app's document."""
    schema = from_wsgi("/openapi.json", app)
    auth = headers_by_operation(app)
    report = FuzzReport()
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = auth.get((operation.method.upper(), operation.path), {})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, headers, report, examples)
    return report


def _fuzz_operation(operation, mode, headers: dict, report: FuzzReport, examples: int) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, derandomize=True,  # derandomized: the same cases on every run
              database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case):
        report.cases += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 (escaped the app's error handlers: a WSGI server answers 500)
            report.escaped(operation.label, exc, case.as_curl_command(headers=headers))
            return
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            report.add(operation.label, response.status_code, group, case.as_curl_command(headers=headers))

    run()
