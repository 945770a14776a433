"""A resumption token issued before a restart still pages on after it (its signature is the
archive's secret key, not anything held in the process). It commits for real, so it lives
apart from test_oai.py, whose tests start from a module world (tests/savepoints.py)."""

from __future__ import annotations

import pytest

from oralhist.extensions import db
from tests.interop.test_oai import NS, error_code, oai


@pytest.fixture
def small_pages(app):
    app.config["OAI_PAGE_SIZE"] = 3


@pytest.mark.committing  # a second app on the same database (tests/savepoints.py)
def test_a_token_survives_a_restart(app, archive, small_pages):
    from oralhist import create_app

    token = oai(app.test_client(), verb="ListIdentifiers", metadataPrefix="oai_dc").find(
        ".//o:resumptionToken", NS
    )
    keys = (
        "SQLALCHEMY_DATABASE_URI",
        "SECRET_KEY",
        "SERVER_NAME",
        "MEDIA_ROOT",
        "SEARCH_INDEX_DIR",
        "OUTBOX_DIR",
        "TESTING",
        "OAI_PAGE_SIZE",
    )
    restarted = create_app({k: app.config[k] for k in keys}, instance_path=app.instance_path)
    root = oai(restarted.test_client(), verb="ListIdentifiers", resumptionToken=token.text)
    assert error_code(root) is None
    assert len(root.findall(".//o:header", NS)) == 3
    with restarted.app_context():
        db.session.remove()
        db.engine.dispose()
