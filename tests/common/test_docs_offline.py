"""Every service's /docs works without internet: Swagger UI's files are served by the service itself."""

import re

import pytest

from tests.support import SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_the_api_docs_load_every_asset_from_the_service_itself(make_app, service):
    client = make_app(service).test_client()
    page = client.get("/docs").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert len(assets) == 3 and all(asset.startswith("/assets/common/swagger-ui/") for asset in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.data) > 10_000, asset
    assert '"validatorUrl": null' in page  # no badge from the validator's site either
