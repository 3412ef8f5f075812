"""QĐ 4750 check-in: opening an insured visit tells the BHYT portal, through an outbox that loses nothing.

The portal is a local stand-in HTTP server that records what it receives and answers as told.
"""

import base64
import xml.etree.ElementTree as ET

import pytest
from flask import Flask, request

from common.models import utcnow
from tests.gateway.conftest import CARD_80, NGUYEN_VAN_AN, add_card, open_visit, register
from tests.support import bearer, free_port

FINANCE = bearer("finance")


class StandInPortal:
    """Takes check-in files like the BHYT portal: answers `status` with a receipt number, keeps every body."""

    def __init__(self):
        self.received, self.status = [], 200
        self.app = Flask("bhyt-portal-stand-in")
        self.app.add_url_rule("/api/checkin", "checkin", self.take, methods=["POST"])

    def take(self):
        self.received.append({"body": request.get_data(), "auth": request.authorization})
        if self.status >= 300:
            return {"maKetQua": str(self.status), "thongBao": "Mã thẻ BHYT không đúng"}, self.status
        return {"maKetQua": "200", "maGiaoDich": f"CI-{len(self.received):06d}"}


@pytest.fixture
def portal(live_server):
    stand_in = StandInPortal()
    url = live_server(stand_in.app, free_port())
    stand_in.url = f"{url}/api/checkin"
    return stand_in


@pytest.fixture
def connected(make_app, portal):
    """A gateway configured with the portal's address and credentials."""
    app = make_app("gateway", BHYT_PORTAL_URL=portal.url, BHYT_PORTAL_USERNAME="01001_bvdk",
                   BHYT_PORTAL_PASSWORD="mat-khau-cong-giam-dinh")
    return app.test_client()


def insured_visit(client) -> dict:
    patient = register(client, NGUYEN_VAN_AN)
    add_card(client, patient["id"], {**CARD_80, "valid_from": "2026-01-01", "valid_to": "2027-12-31"})
    return open_visit(client, patient["id"])


def check_in_columns(envelope: bytes) -> dict:
    root = ET.fromstring(envelope)
    [file_el] = root.iterfind("THONGTINHOSO/DANHSACHHOSO/HOSO/FILEHOSO")
    assert file_el.findtext("LOAIHOSO") == "CHECKIN"
    inner = ET.fromstring(base64.b64decode(file_el.findtext("NOIDUNGFILE")))
    return {child.tag: child.text or "" for child in inner}


def visit_of(client, encounter_id: str) -> dict:
    return client.get(f"/api/v1/encounters/{encounter_id}", headers=bearer("cashier")).get_json()


def make_retry_due(client) -> None:
    from gateway.models import CheckIn

    with client.application.app_context():
        CheckIn.update(next_attempt_at=utcnow()).execute()


def deliver(client) -> dict:
    from gateway.check_ins.services import deliver_check_ins

    with client.application.app_context():
        return deliver_check_ins()


def test_opening_an_insured_visit_sends_its_check_in_to_the_portal(connected, portal):
    visit = insured_visit(connected)

    [sent] = portal.received
    columns = check_in_columns(sent["body"])
    assert (columns["MA_LK"], columns["HO_TEN"], columns["SO_CCCD"], columns["MA_THE_BHYT"]) == (
        visit["id"], "Nguyễn Văn An", "001088012345", "DN4010123456789")
    assert (columns["GIOI_TINH"], columns["MA_LOAI_KCB"], columns["MA_CSKCB"], columns["MA_DOITUONG_KCB"]) == (
        "1", "01", "01001", "1")
    assert len(columns["NGAY_VAO"]) == 12 and columns["GT_THE_DEN"] == "20271231"
    assert (sent["auth"].username, sent["auth"].password) == ("01001_bvdk", "mat-khau-cong-giam-dinh")
    check_in = visit_of(connected, visit["id"])["check_in"]
    assert (check_in["state"], check_in["portal_reference"], check_in["attempts"]) == ("sent", "CI-000001", 1)


def test_without_a_portal_address_the_check_in_waits_listed_and_goes_once_configured(make_app, gateway, portal):
    visit = insured_visit(gateway)

    pending = gateway.get("/api/v1/check-ins?state=pending", headers=FINANCE).get_json()
    assert [(c["encounter_id"], c["attempts"]) for c in pending] == [(visit["id"], 0)]
    assert "BHYT_PORTAL_URL" in pending[0]["last_error"]
    assert visit_of(gateway, visit["id"])["check_in"]["state"] == "pending"

    configured = make_app("gateway", BHYT_PORTAL_URL=portal.url).test_client()
    assert deliver(configured) == {"sent": 1}
    assert check_in_columns(portal.received[0]["body"])["MA_LK"] == visit["id"]


def test_a_portal_that_is_down_gets_the_check_in_when_it_is_back(connected, portal):
    portal.status = 503
    visit = insured_visit(connected)
    check_in = visit_of(connected, visit["id"])["check_in"]
    assert (check_in["state"], check_in["attempts"]) == ("pending", 1)
    assert check_in["last_error"].startswith("HTTP 503")

    portal.status = 200
    make_retry_due(connected)
    assert deliver(connected) == {"sent": 1}
    assert visit_of(connected, visit["id"])["check_in"]["state"] == "sent"
    assert len(portal.received) == 2


def test_a_check_in_the_portal_refuses_is_kept_with_its_reason_and_can_be_sent_again(connected, portal):
    portal.status = 422
    visit = insured_visit(connected)
    check_in = visit_of(connected, visit["id"])["check_in"]
    assert check_in["state"] == "rejected" and "Mã thẻ BHYT không đúng" in check_in["last_error"]

    portal.status = 200
    retried = connected.post(f"/api/v1/check-ins/{check_in['id']}/retry", headers=FINANCE)

    assert retried.status_code == 200
    assert visit_of(connected, visit["id"])["check_in"]["state"] == "sent"


def test_a_self_paying_visit_has_no_check_in(connected, portal):
    patient = register(connected, NGUYEN_VAN_AN)

    visit = open_visit(connected, patient["id"])

    assert visit["check_in"] is None and portal.received == []


def test_a_card_shown_after_the_visit_opened_gives_it_its_check_in(connected, portal):
    patient = register(connected, NGUYEN_VAN_AN)
    visit = open_visit(connected, patient["id"])

    add_card(connected, patient["id"], {**CARD_80, "valid_from": "2026-01-01", "valid_to": "2027-12-31"})

    assert visit_of(connected, visit["id"])["check_in"]["state"] == "sent"
    assert check_in_columns(portal.received[0]["body"])["MA_LK"] == visit["id"]


def test_the_check_in_file_can_be_downloaded_as_it_was_sent(connected, portal):
    visit = insured_visit(connected)
    check_in = visit_of(connected, visit["id"])["check_in"]

    response = connected.get(check_in["file_url"], headers=FINANCE)

    assert response.mimetype == "application/xml" and response.data == portal.received[0]["body"]
