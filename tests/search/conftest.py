"""A small hand-made archive for the search adapter's tests: each interview says something a
test looks for, and the access variations (restricted, closed, draft, embargoed, documents)
each hide one marker word."""

from __future__ import annotations

import pytest

from oralhist.search import SearchIndex, SearchScope

TODAY = 20261125

# Scopes as the access policy would build them.
ANONYMOUS = SearchScope(levels=frozenset({"open"}), today=TODAY)
RESEARCHER = SearchScope(
    levels=frozenset({"open", "registered"}),
    today=TODAY,
    owner_user_id=42,
    document_levels=frozenset({"open", "registered"}),
)
ARCHIVIST = SearchScope(everything=True, today=TODAY)


def interview(
    iid: int,
    segments: list[tuple[str, str]],
    *,
    title: str | None = None,
    collection: str = "labour-lives",
    collection_title: str = "Labour Lives",
    narrators: tuple[str, ...] = ("Kate Clark",),
    year: int | None = 1957,
    language: str = "en",
    access_level: str = "open",
    embargo_until: int = 0,
    status: str = "published",
    owner_id: int | None = 7,
    summary: str = "",
    people: tuple[str, ...] = (),
    place: str = "",
    index_points: list[dict] | None = None,
    step_ms: int = 10_000,
) -> list[dict]:
    """The index documents of one interview; segments are (speaker, text), timed every
    ``step_ms`` from 0 (``step_ms=0``: untimed)."""
    meta = {
        "interview_id": iid,
        "accession": f"OH-{year or 0}-{iid:03d}",
        "interview_title": title or f"Interview {iid}",
        "collection": collection,
        "collection_title": collection_title,
        "narrators": list(narrators),
        "year": year,
        "date_recorded": f"{year}-03" if year else "",
        "language": language,
        "access_level": access_level,
        "embargo_until": embargo_until,
        "status": status,
        "owner_id": owner_id,
    }
    docs = [
        {
            **meta,
            "doc_id": f"int:{iid}",
            "kind": "interview",
            "title": meta["interview_title"],
            "summary": summary,
            "people": list(people),
            "place": place,
        }
    ]
    for n, (speaker, text) in enumerate(segments):
        start = n * step_ms if step_ms else None
        docs.append(
            {
                **meta,
                "doc_id": f"seg:{iid * 1000 + n}",
                "kind": "segment",
                "segment_id": iid * 1000 + n,
                "position": n,
                "start_ms": start,
                "end_ms": start + step_ms - 1 if step_ms else None,
                "speaker": speaker,
                "text": text,
            }
        )
    for k, point in enumerate(index_points or []):
        docs.append(
            {
                **meta,
                "doc_id": f"idx:{iid}:{k}",
                "kind": "index",
                "start_ms": point.get("start_ms", 0),
                "title": point.get("title", ""),
                "synopsis": point.get("synopsis", ""),
                "keywords": point.get("keywords", []),
                "text": point.get("text", ""),
            }
        )
    return docs


def document(did: int, title: str, text: str, *, access_level: str = "open", year=1957):
    return {
        "doc_id": f"doc:{did}",
        "kind": "document",
        "document_id": did,
        "title": title,
        "creators": ["Strike Committee"],
        "description": "",
        "text": text,
        "year": year,
        "doc_type": "pamphlet",
        "access_level": access_level,
    }


def archive() -> tuple[list[list[dict]], list[dict]]:
    interviews = [
        interview(
            1,
            [
                ("Interviewer", "Tell me about the mill."),
                ("Kate Clark", "We were organising the union at the cotton mill in 1956."),
                ("Interviewer", "Was there a strike?"),
                ("Kate Clark", "The general strike came in the spring; André led the picket."),
                ("Kate Clark", "Some <script>alert(1)</script> fool wrote on the wall."),
            ],
            title="Kate Clark on the cotton mill",
            narrators=("Kate Clark",),
            year=1957,
            people=("André Dubois",),
            index_points=[
                {
                    "start_ms": 10_000,
                    "title": "Organising the union",
                    "synopsis": "How the union was organised at the mill.",
                    "keywords": ["union", "mill"],
                }
            ],
        ),
        interview(
            2,
            [
                ("Interviewer", "What did you do at the docks?"),
                ("Joe Novak", "I organised the dockers; the strike lasted weeks."),
                ("Joe Novak", "My father worked the night shift at the harbour."),
            ],
            title="Joe Novak, harbour days",
            collection="harbour-voices",
            collection_title="Harbour Voices",
            narrators=("Joe Novak",),
            year=1972,
            language="en",
        ),
        interview(
            3,
            [("Hélène Moreau", "Nous avons fait la grève à l'usine en 1968.")],
            title="Hélène Moreau",
            collection="migration",
            collection_title="Migration Stories",
            narrators=("Hélène Moreau",),
            year=1968,
            language="fr",
        ),
        # Hidden words, one marker each.
        interview(
            10,
            [("Ada Secret", "The zanzibarite papers were burned after the strike.")],
            title="A restricted interview",
            access_level="restricted",
            narrators=("Ada Secret",),
            index_points=[
                {"start_ms": 0, "title": "Papers", "synopsis": "The zanzibarite ledger."}
            ],
        ),
        interview(
            11,
            [("Bo Closed", "Nobody knew about the quorblatt meeting.")],
            title="A closed interview",
            access_level="closed",
            narrators=("Bo Closed",),
        ),
        interview(
            12,
            [("Cy Draft", "The flimflammery began in the winter.")],
            title="A draft about the winter",
            status="draft",
            owner_id=42,
            narrators=("Cy Draft",),
        ),
        interview(
            13,
            [("Di Embargo", "The vexillarium was kept in the cellar.")],
            title="An embargoed interview",
            embargo_until=20400101,
            narrators=("Di Embargo",),
        ),
        interview(
            14,
            [("Ed Other", "A draft by somebody else mentions the grommetry.")],
            title="Someone else's draft",
            status="draft",
            owner_id=99,
            narrators=("Ed Other",),
        ),
        interview(
            15,
            [("Fay Past", "The embargo on the oldembargoword papers has expired.")],
            title="An embargo that ended",
            embargo_until=20200101,
            narrators=("Fay Past",),
        ),
    ]
    documents = [
        document(1, "Strike pamphlet 1957", "All out! The general strike begins Monday."),
        document(2, "Secret letter", "The hushhushword letter.", access_level="restricted"),
    ]
    return interviews, documents


@pytest.fixture(scope="module")
def built_index(tmp_path_factory) -> SearchIndex:
    """One index for every read-only test of a module."""
    ix = SearchIndex(tmp_path_factory.mktemp("search") / "index")
    interviews, documents = archive()
    ix.rebuild(interviews, documents)
    yield ix
    ix.close()


@pytest.fixture
def fresh_index(tmp_path) -> SearchIndex:
    """An index a test may write to."""
    ix = SearchIndex(tmp_path / "index", writer_timeout=5.0)
    interviews, documents = archive()
    ix.rebuild(interviews, documents)
    yield ix
    ix.close()
