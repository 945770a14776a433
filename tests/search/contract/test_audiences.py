"""Records written for one audience (issue 16: redactions and anonymised names). When part of
an interview is withheld from everyone but archivists, ``services.indexing`` writes each
differing record twice: ``audience: "public"`` (what everyone else may see) and
``audience: "archivist"`` (the whole). A backend shows archivists only the whole records and
everyone else only the public ones, in results, totals, facets, snippets, suggestions and
the in-interview search; records without an audience are for everyone."""

from __future__ import annotations

from oralhist.search.scope import SearchScope

from ..conftest import interview

ARCHIVIST = SearchScope.archivist()
PUBLIC = SearchScope()
SIGNED_IN = SearchScope(levels=frozenset({"open", "registered"}), owner_user_id=3)
#: the depositor: their own interview is "granted", yet withheld text stays withheld
OWNER = SearchScope(granted_interview_ids=frozenset({1}), owner_user_id=7)

SECRET = "quokkasecretword"


def split_docs() -> list[dict]:
    docs = interview(
        1,
        [
            ("Kate Clark", "the strike began in spring"),
            ("Kate Clark", f"my neighbour {SECRET} told me"),
            ("Kate Clark", "we marched to the town hall"),
        ],
        narrators=("Narrator A",),
    )
    out = []
    for doc in docs:
        if doc["kind"] == "segment" and SECRET in doc["text"]:
            out.append(
                {
                    **doc,
                    "text": "my neighbour [redacted 0:00:10-0:00:12] told me",
                    "audience": "public",
                }
            )
            out.append({**doc, "doc_id": doc["doc_id"] + "~a", "audience": "archivist"})
        else:
            out.append(doc)
    return out


def test_each_audience_sees_only_its_records(new_backend):
    backend = new_backend()
    backend.rebuild([split_docs()], [])
    for scope in (PUBLIC, SIGNED_IN, OWNER):
        results = backend.search(SECRET, scope)
        assert results.total_moments == 0 and results.total_groups == 0
        assert backend.search_interview(1, SECRET, scope) == []
        assert backend.suggest(SECRET[:-1] + "x", scope) is None
        # the public record is found by its other words, once, with the placeholder
        found = backend.search("neighbour", scope)
        assert found.total_moments == 1
        snippets = [m.snippet_html for g in found.groups for m in g.moments]
        assert SECRET not in " ".join(snippets) and "redacted" in " ".join(snippets)
        assert backend.search("strike OR neighbour OR marched", scope).total_moments == 3
    results = backend.search(SECRET, ARCHIVIST)
    assert results.total_moments == 1
    assert len(backend.search_interview(1, SECRET, ARCHIVIST)) == 1
    # archivists see the whole record and not the public one: no moment twice
    assert backend.search("neighbour", ARCHIVIST).total_moments == 1
    assert backend.search("redacted", ARCHIVIST).total_moments == 0
    assert backend.search("strike OR neighbour OR marched", ARCHIVIST).total_moments == 3


def test_replacing_the_interview_drops_both_audiences(new_backend):
    backend = new_backend()
    backend.rebuild([split_docs()], [])
    plain = interview(1, [("Kate Clark", f"my neighbour {SECRET} told me")])
    backend.replace_interview(1, plain)
    assert backend.search(SECRET, PUBLIC).total_moments == 1
    assert backend.search("redacted", ARCHIVIST).total_moments == 0
