"""Redactions over HTTP: who may add, change and lift them; and that, for everyone but
archivists, the redacted words are gone from the page, the API, every export format, search
(results, totals, facets, snippets, suggestions, in-interview search), passages and
citations, while archivists see them in place. Lifting restores everything."""

from __future__ import annotations

import pytest

from .conftest import NAME, WORD

EXPORTS = ("json", "vtt", "srt", "txt", "ohms")
ROLES = (None, "researcher", "contributor", "contributor2")


def redact(browser, iid, **extra):
    body = {"start_ms": 10500, "end_ms": 12000, "reason": "third party named", **extra}
    return browser("archivist").post(f"/api/v1/interviews/{iid}/redactions", json=body)


NONWORD = "qqzznotawordqq"


def _without_echo(client, url: str, q: str) -> str:
    """A search answer with the query's own echo taken out: the page and the API repeat
    the query (input value, "query" field); that is not the archive's text. The echo is
    counted on the same search for a word that is nowhere."""
    text = client.get(url.format(q=q)).get_data(as_text=True)
    echoes = client.get(url.format(q=NONWORD)).get_data(as_text=True).count(NONWORD)
    assert text.count(q) >= echoes
    return text.replace(q, "", echoes) if echoes else text


def texts_for(client, iid) -> dict[str, str]:
    """Everything a reader can fetch that could carry the interview's words."""
    out = {
        "page": client.get(f"/interviews/{iid}").get_data(as_text=True),
        "api": client.get(f"/api/v1/interviews/{iid}/transcript").get_data(as_text=True),
        "search": _without_echo(client, "/api/v1/search?q={q}", WORD),
        "search_page": _without_echo(client, "/search?q={q}", WORD),
        "in_interview": _without_echo(client, f"/api/v1/interviews/{iid}/search?q={{q}}", WORD),
        # a misspelling: "did you mean" must not offer the withheld word
        "suggest": _without_echo(client, "/api/v1/search?q={q}", WORD[:-1] + "x"),
    }
    for fmt in EXPORTS:
        out[fmt] = client.get(f"/api/v1/interviews/{iid}/transcript?format={fmt}").get_data(
            as_text=True
        )
    return out


def test_only_archivists_add_change_and_lift(app, browser, archive):
    iid = archive["interview"]
    body = {"start_ms": 10500, "end_ms": 12000, "reason": "r"}
    assert browser(None).post(f"/api/v1/interviews/{iid}/redactions", json=body).status_code == 401
    for role in ("researcher", "contributor", "contributor2"):
        response = browser(role).post(f"/api/v1/interviews/{iid}/redactions", json=body)
        assert response.status_code == 403, (role, response.json)
        assert browser(role).get(f"/api/v1/interviews/{iid}/redactions").status_code == 403
    made = redact(browser, iid)
    assert made.status_code == 201, made.json
    rid = made.json["id"]
    assert made.json["placeholder"] == "[redacted 0:00:10-0:00:12]"
    for role in ("researcher", "contributor", "contributor2"):
        assert browser(role).get(f"/api/v1/redactions/{rid}").status_code == 404
        assert browser(role).delete(f"/api/v1/redactions/{rid}").status_code == 404
    archivist = browser("archivist")
    changed = archivist.patch(f"/api/v1/redactions/{rid}", json={"end_ms": 13000})
    assert changed.status_code == 200 and changed.json["end_ms"] == 13000
    assert archivist.delete(f"/api/v1/redactions/{rid}").status_code == 204
    assert archivist.get(f"/api/v1/redactions/{rid}").status_code == 404
    audit = archivist.get("/access/audit").get_data(as_text=True)
    for action in ("redaction.add", "redaction.change", "redaction.lift"):
        assert action in audit


@pytest.mark.parametrize(
    "body,field",
    [
        ({"start_ms": 5000, "end_ms": 4000, "reason": "r"}, "end_ms"),
        ({"start_ms": -1, "end_ms": 4000, "reason": "r"}, "start_ms"),
        ({"start_ms": 0, "end_ms": 4000}, "reason"),
        ({"start_ms": "x", "end_ms": 4000, "reason": "r"}, "start_ms"),
        ({"start_ms": 0, "end_ms": 4000, "reason": "r", "until": "2020-01-01"}, "until"),
        ({"start_ms": 0, "end_ms": 4000, "reason": "r", "until": "soon"}, "until"),
    ],
)
def test_bad_ranges_are_refused_by_field(app, browser, archive, body, field):
    iid = archive["interview"]
    response = browser("archivist").post(f"/api/v1/interviews/{iid}/redactions", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]


def test_redacted_words_leave_nothing_for_readers_and_stay_for_archivists(app, browser, archive):
    iid = archive["interview"]
    before = texts_for(browser("researcher").client, iid)
    assert WORD in before["api"] and WORD in before["vtt"] and WORD in before["search"]
    assert redact(browser, iid).status_code == 201
    for role in ROLES:
        seen = texts_for(browser(role).client, iid)
        for where, text in seen.items():
            assert WORD not in text, (role, where)
        assert "[redacted 0:00:10-0:00:12]" in seen["api"], role
        assert "[redacted 0:00:10-0:00:12]" in seen["page"], role
        assert "[redacted 0:00:10-0:00:12]" in seen["vtt"], role
        search = browser(role).get(f"/api/v1/search?q={WORD}").json
        assert search["total"] == 0
        assert all(not values for values in search["facets"].values())
        assert browser(role).get(f"/api/v1/interviews/{iid}/search?q={WORD}").json["total"] == 0
    archivist = texts_for(browser("archivist").client, iid)
    assert WORD in archivist["api"] and WORD in archivist["vtt"]
    assert browser("archivist").get(f"/api/v1/search?q={WORD}").json["total"] == 1
    # the rest of the transcript is still found by everyone, once (no duplicate records)
    found = browser("researcher").get("/api/v1/search?q=harbour").json
    assert found["total"] == 1 and found["total_moments"] >= 2
    found = browser("archivist").get("/api/v1/search?q=harbour").json
    assert found["total"] == 1
    assert (
        found["total_moments"]
        == browser("researcher").get("/api/v1/search?q=harbour").json["total_moments"]
    )


def test_lifting_restores_everything(app, browser, archive):
    iid = archive["interview"]
    rid = redact(browser, iid).json["id"]
    assert browser("researcher").get(f"/api/v1/search?q={WORD}").json["total"] == 0
    assert browser("archivist").delete(f"/api/v1/redactions/{rid}").status_code == 204
    seen = texts_for(browser("researcher").client, iid)
    for where in ("api", "page", "vtt", "search"):
        assert WORD in seen[where], where
    assert "[redacted" not in seen["api"]


def test_a_redaction_lifts_on_its_date(app, browser, archive, clock):
    iid = archive["interview"]
    assert redact(browser, iid, until="2026-12-10").status_code == 201
    assert WORD not in browser("researcher").get(f"/api/v1/interviews/{iid}/transcript").get_data(
        as_text=True
    )
    clock.advance(days=4)
    # read time: the text is whole again at once ...
    assert WORD in browser("researcher").get(f"/api/v1/interviews/{iid}/transcript").get_data(
        as_text=True
    )
    # ... and the worker's duty deletes it (audited), which reindexes the words
    from oralhist.worker import _lift_expired_redactions

    with app.app_context():
        assert _lift_expired_redactions() == "1 redactions lifted by their date"
    assert browser("researcher").get(f"/api/v1/search?q={WORD}").json["total"] == 1


def test_word_times_widen_the_range_to_whole_words(app, browser, archive):
    from oralhist.extensions import db
    from oralhist.models import Segment

    iid = archive["interview"]
    with app.app_context():
        segment = db.session.query(Segment).filter(Segment.start_ms == 10000).one()
        words = segment.text.split()
        step = 4000 // len(words)
        segment.words = [
            [w, 10000 + n * step, 10000 + (n + 1) * step, 1.0] for n, w in enumerate(words)
        ]
        db.session.commit()
        index = words.index(WORD)
        word_start, word_end = 10000 + index * step, 10000 + (index + 1) * step
    made = browser("archivist").post(
        f"/api/v1/interviews/{iid}/redactions",
        json={"start_ms": word_start + 10, "end_ms": word_end - 10, "reason": "r"},
    )
    assert (made.json["start_ms"], made.json["end_ms"]) == (word_start, word_end)
    seen = browser("researcher").get(f"/api/v1/interviews/{iid}/transcript").json
    text = next(s["text"] for s in seen["segments"] if s["start_ms"] == 10000)
    # only the word is withheld; the words around it stay
    assert (
        WORD not in text
        and "nobody knew it." in text
        and text.startswith("The secret was [redacted")
    )
    assert all(WORD not in w["text"] for s in seen["segments"] for w in s["words"])


def test_archivist_page_shows_each_redaction_in_place(app, browser, archive):
    iid = archive["interview"]
    redact(browser, iid)
    page = browser("archivist").get(f"/interviews/{iid}").get_data(as_text=True)
    assert WORD in page and "third party named" in page and 'id="redaction-form"' in page
    for role in ROLES:
        assert "third party named" not in browser(role).get(f"/interviews/{iid}").get_data(
            as_text=True
        )


def test_the_page_form_redacts_with_times(app, browser, archive):
    iid = archive["interview"]
    archivist = browser("archivist")
    response = archivist.post(
        f"/interviews/{iid}/redactions",
        data={"start": "0:00:10", "end": "0:00:12.5", "reason": "a neighbour"},
    )
    assert response.status_code == 302
    listed = archivist.get(f"/api/v1/interviews/{iid}/redactions").json["items"]
    assert [(r["start_ms"], r["end_ms"]) for r in listed] == [(10000, 12500)]
    bad = archivist.post(
        f"/interviews/{iid}/redactions", data={"start": "soon", "end": "1", "reason": "r"}
    )
    assert bad.status_code == 422 and "start" in bad.get_data(as_text=True)
    lifted = archivist.post(f"/redactions/{listed[0]['id']}/lift", data={})
    assert lifted.status_code == 302
    assert archivist.get(f"/api/v1/interviews/{iid}/redactions").json["items"] == []
    assert (
        browser("researcher")
        .post(f"/interviews/{iid}/redactions", data={"start": "1", "end": "2", "reason": "r"})
        .status_code
        == 403
    )


def test_name_marker_is_not_the_redaction_marker():
    assert NAME != WORD


def test_the_command_line_lists_lifts_and_makes(app, browser, archive, clock):
    iid = archive["interview"]
    redact(browser, iid, until="2026-12-10")
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["redactions", "list"])
    assert listed.exit_code == 0 and "0:00:10-0:00:12 until 2026-12-10" in listed.output
    assert "third party named" in listed.output
    assert "0 redactions lifted" in runner.invoke(args=["redactions", "lift-expired"]).output
    clock.advance(days=4)
    assert "1 redaction lifted" in runner.invoke(args=["redactions", "lift-expired"]).output
    assert "No redactions." in runner.invoke(args=["redactions", "list"]).output
    made = runner.invoke(args=["redactions", "make-audio"])
    assert made.exit_code == 0 and "0 silenced audio copies made" in made.output
