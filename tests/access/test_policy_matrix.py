"""The access matrix: every role x every kind of interview x every policy function, first as
pure functions over ``load_viewer`` on real rows, then through the HTTP endpoints that exist
(interview page, the interview API and its flags). Zero mismatches; failures list them all."""

from __future__ import annotations

import pytest

from oralhist.access import now, policy
from oralhist.extensions import db
from oralhist.models import Interview

from .conftest import KINDS, viewer

#: matrix row -> user key in ``people`` (None = anonymous)
ROLES = {
    "anonymous": None,
    "researcher": "researcher",
    "pending": "r_pending",
    "approved": "r_approved",
    "expired": "r_expired",
    "revoked": "r_revoked",
    "denied": "r_denied",
    "withdrawn": "r_withdrawn",
    "another researcher": "r_other",
    "contributor owner": "contributor",
    "contributor not owner": "contributor2",
    "archivist": "archivist",
    "admin": "admin",
}

ALL = frozenset(KINDS)
PUBLISHED = ALL - {"draft"}
SIGNED_IN = frozenset({"open", "registered"})
NO_GRANT = ("researcher", "pending", "expired", "revoked", "denied", "withdrawn")

#: Expected: which interviews each role may do each thing with (written out by hand, not
#: derived from the policy).
LISTEN = {
    "anonymous": frozenset({"open"}),
    **dict.fromkeys(NO_GRANT, SIGNED_IN),
    "approved": SIGNED_IN | {"restricted", "embargo_past"},
    "another researcher": SIGNED_IN | {"embargo_past"},
    "contributor owner": ALL,
    "contributor not owner": SIGNED_IN,
    "archivist": ALL,
    "admin": ALL,
}
DOWNLOAD_MASTER = {
    **LISTEN,
    # r_approved's grant on embargo_past is listen-only; r_other's too.
    "approved": SIGNED_IN | {"restricted"},
    "another researcher": SIGNED_IN,
}
VIEW_RECORD = {
    role: (ALL if role in ("contributor owner", "archivist", "admin") else PUBLISHED)
    for role in ROLES
}
REQUEST = {
    "anonymous": frozenset(),
    **dict.fromkeys(NO_GRANT, frozenset({"restricted", "embargo_past"})),
    "approved": frozenset(),
    "another researcher": frozenset({"restricted"}),
    "contributor owner": frozenset(),
    "contributor not owner": frozenset({"restricted", "embargo_past"}),
    "archivist": frozenset(),
    "admin": frozenset(),
}

EXPECTED = {
    "can_view_record": VIEW_RECORD,
    "can_read_transcript": LISTEN,
    "can_listen": LISTEN,
    "can_download_master": DOWNLOAD_MASTER,
    "can_request_access": REQUEST,
}


def _call(name: str, who, interview):
    fn = getattr(policy, name)
    if name == "can_view_record":
        return fn(who, interview)
    return fn(who, interview, now())


def test_policy_matrix_pure(app, people, interviews, states):
    mismatches = []
    cells = 0
    with app.app_context():
        rows = {kind: db.session.get(Interview, iid) for kind, iid in interviews.items()}
        for role, key in ROLES.items():
            who = viewer(people[key] if key else None)
            for kind, interview in rows.items():
                for name, table in EXPECTED.items():
                    expected = kind in table[role]
                    actual = _call(name, who, interview)
                    cells += 1
                    if actual != expected:
                        mismatches.append((role, kind, name, expected, actual))
    assert cells == len(ROLES) * len(KINDS) * len(EXPECTED)
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_download_transcript_follows_reading(app, people, interviews, states):
    with app.app_context():
        for key in (None, "researcher", "r_approved", "contributor2", "archivist"):
            who = viewer(people[key] if key else None)
            for iid in interviews.values():
                interview = db.session.get(Interview, iid)
                assert policy.can_download_transcript(
                    who, interview, now()
                ) == policy.can_read_transcript(who, interview, now())


def test_policy_matrix_http(app, people, interviews, states, login):
    """The interview page and ``GET /api/v1/interviews/<id>`` for every role and kind."""
    mismatches = []
    for role, key in ROLES.items():
        client = login(key)
        for kind, iid in interviews.items():
            visible = kind in VIEW_RECORD[role]
            page = client.get(f"/interviews/{iid}")
            api = client.get(f"/api/v1/interviews/{iid}")
            want = 200 if visible else 404
            if page.status_code != want:
                mismatches.append((role, kind, "page", want, page.status_code))
            if api.status_code != want:
                mismatches.append((role, kind, "api", want, api.status_code))
            if not visible:
                continue
            body = api.json
            for flag in ("can_listen", "can_read_transcript"):
                if body[flag] != (kind in LISTEN[role]):
                    mismatches.append((role, kind, flag, kind in LISTEN[role], body[flag]))
            html = page.get_data(as_text=True)
            if "Audio and transcript" not in html:
                mismatches.append((role, kind, "level sentence", True, False))
            if f"Rights for {kind}" not in html:
                mismatches.append((role, kind, "rights statement", True, False))
            shows_form = 'name="purpose"' in html
            wants_form = kind in REQUEST[role] and not (role == "pending" and kind == "restricted")
            if shows_form != wants_form:
                mismatches.append((role, kind, "request form", wants_form, shows_form))
            sign_in = "Sign in to request access" in html
            wants_sign_in = role == "anonymous" and kind in ("restricted", "embargo_past")
            if sign_in != wants_sign_in:
                mismatches.append((role, kind, "sign-in prompt", wants_sign_in, sign_in))
    assert mismatches == [], "\n".join(map(str, mismatches))


@pytest.mark.parametrize(
    ("role", "kind", "text"),
    [
        ("pending", "restricted", "is pending"),
        ("approved", "restricted", "You have access to listen and download"),
        ("approved", "embargo_past", "You have access to listen"),
        ("denied", "restricted", "Reason: Not enough detail."),
        ("revoked", "restricted", "Your last request was revoked"),
        ("expired", "restricted", "Your last request was expired"),
        ("anonymous", "embargo_future", "closed until"),
    ],
)
def test_panel_shows_request_state(people, interviews, states, login, role, kind, text):
    html = login(ROLES[role]).get(f"/interviews/{interviews[kind]}").get_data(as_text=True)
    assert text in html
