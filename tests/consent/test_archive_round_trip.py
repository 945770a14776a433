"""Exports and imports carry release agreements (terms, signed forms, dates of death), the
open-publication override and redactions, so a move to a new server keeps them."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from oralhist.extensions import db

from ..documents.conftest import pdf_bytes
from ..test_bulk import load_sample, make_other_app, ok, refused  # noqa: F401

AGREEMENT = {
    "status": "signed",
    "signed_on": "2026-03-12",
    "publication": "transcript_only",
    "closed_until": "2031-01-01",
    "closed_years_after_death": 25,
    "anonymise": True,
    "conditions": "No broadcast use.",
    "date_of_death": "2020-06-01",
}


def consent_state(app) -> dict:
    from oralhist.models import Interview
    from oralhist.services import consent

    with app.app_context():
        out = {}
        for interview in db.session.scalars(select(Interview).order_by(Interview.accession)):
            out[interview.accession] = {
                "agreements": [
                    {
                        k: v
                        for k, v in consent.agreement_json(p).items()
                        if k not in ("participant_id", "person_id")
                    }
                    for p in interview.participants
                ],
                "redactions": [
                    (r.start_ms, r.end_ms, r.reason, r.until) for r in interview.redactions
                ],
                "override": interview.consent_override,
                "until": (interview.consent_transcript_until, interview.consent_audio_until),
            }
        db.session.rollback()
        return out


def test_agreements_and_redactions_survive_export_and_import(
    app,
    users,
    browser,
    make_other_app,  # noqa: F811 (test_bulk's fixture, imported above)
    tmp_path,
):
    load_sample(app)
    from oralhist.models import Interview

    with app.app_context():
        first = db.session.scalar(select(Interview).where(Interview.accession == "OH-SAMPLE-001"))
        iid, pid = first.id, first.participants[0].id
    archivist = browser("archivist")
    assert (
        archivist.patch(f"/api/v1/interviews/{iid}/agreements/{pid}", json=AGREEMENT).status_code
        == 200
    )
    stored = archivist.client.post(
        f"/api/v1/interviews/{iid}/agreements/{pid}/form",
        data={"file": (io.BytesIO(pdf_bytes("Signed release")), "release.pdf")},
        headers={"X-CSRFToken": archivist.token()},
    )
    assert stored.status_code == 201
    for body in (
        {"start_ms": 10000, "end_ms": 15000, "reason": "a neighbour named"},
        {"start_ms": 30000, "end_ms": 31000, "reason": "medical", "until": "2040-01-01"},
    ):
        assert archivist.post(f"/api/v1/interviews/{iid}/redactions", json=body).status_code == 201
    before = consent_state(app)
    assert before["OH-SAMPLE-001"]["agreements"][0]["form"] is not None

    dest = tmp_path / "export"
    ok(app, "export", dest)
    manifest = json.loads((dest / "manifest.json").read_text())
    entry = next(i for i in manifest["interviews"] if i["accession"] == "OH-SAMPLE-001")
    agreement = entry["participants"][0]["agreement"]
    assert agreement["anonymise"] is True and agreement["form"]["file"].startswith("media/")
    assert [r["reason"] for r in entry["redactions"]] == ["a neighbour named", "medical"]

    other = make_other_app()
    ok(other, "import", dest)
    after = consent_state(other)
    assert after == before
    assert "0 changed" in ok(other, "fixity")  # the signed form is checked like media


def test_a_bad_agreement_in_a_manifest_is_refused_with_its_place(app, users, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    manifest = {
        "format": "oralhist-archive",
        "people": [{"key": "p", "name": "Ada Narrator"}],
        "interviews": [
            {
                "accession": "OH-X-1",
                "title": "X",
                "participants": [
                    {
                        "person": "p",
                        "role": "interviewee",
                        "agreement": {"status": "signed", "publication": "maybe"},
                    }
                ],
                "redactions": [{"start_ms": 5, "end_ms": 1, "reason": "r"}],
            }
        ],
    }
    from oralhist.services.archive.manifest import FORMAT

    manifest["format"] = FORMAT
    (folder / "manifest.json").write_text(json.dumps(manifest))
    output = refused(app, "import", folder)
    assert "interviews[0] (OH-X-1).participants[0].agreement" in output
    assert "agreement.publication: must be one of" in output
    assert "redactions[0].end_ms" in output
