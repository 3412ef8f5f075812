"""Lab fixtures: the lab service app and its test client, on this run's database."""

import pytest


@pytest.fixture
def lab_app(make_app):
    return make_app("lab_service")


@pytest.fixture
def lab(lab_app):
    return lab_app.test_client()
