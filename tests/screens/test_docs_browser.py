"""The gateway's /docs in a real browser: the vendored Swagger UI shows the one merged document (the services'
paths at the gateway's /api/v1/<service>/... prefixes among the gateway's own) and asks nothing of any other
machine, so it works offline."""

import re

from playwright.sync_api import Page, expect


def test_the_docs_show_every_services_paths_and_ask_nothing_of_another_machine(office, make_app, live_server,
                                                                                page: Page, artifacts):
    for service in ("lab_service", "pharmacy_service"):  # (billing and the gateway are live already)
        live_server(make_app(service))
    elsewhere = []
    page.on("request", lambda request: None if re.match(r"https?://127\.0\.0\.1[:/]", request.url)
            else elsewhere.append(request.url))
    page.goto(office.url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Hospital gateway")
    expect(page.get_by_text("Not answering when this document was made")).to_have_count(0)
    expect(page.locator(".opblock-tag[data-tag='billing_internal']")).to_have_count(0)  # no path of its is public
    for tag, path in (("auth", "/api/v1/auth/token"), ("billing_claims", "/api/v1/billing/claim-batches"),
                      ("lab_runs", "/api/v1/lab/test-runs"), ("pharmacy_dispensing", "/api/v1/pharmacy/dispenses")):
        page.locator(f".opblock-tag[data-tag='{tag}']").click()  # tags come folded: 120-odd operations
        expect(page.locator(f".opblock-summary-path[data-path='{path}']").first).to_be_visible(timeout=15_000)
    assert elsewhere == []
    page.screenshot(path=artifacts / "gateway-docs-merged.png")
