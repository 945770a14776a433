"""The interview list (#15): narrator, duration, an access badge and "has audio / has
transcript" marks, in a bounded number of queries whatever the page size."""

from __future__ import annotations

import re

from sqlalchemy import event

from oralhist.extensions import db
from oralhist.models import Interview, Participant, Person, Recording, Transcript


def _make(app, count: int, *, with_material: bool = True) -> list[int]:
    ids = []
    with app.app_context():
        narrator = Person(name="Mary Smith", sort_name="Smith, Mary")
        db.session.add(narrator)
        for n in range(count):
            interview = Interview(
                accession=f"OH-L-{n:03d}",
                title=f"Listed {n:03d}",
                status="published",
                access_level="restricted" if n % 2 else "open",
            )
            interview.participants.append(Participant(person=narrator, role="interviewee"))
            db.session.add(interview)
            db.session.flush()
            if with_material and n == 0:
                for position, ms in enumerate((61_000, 3_000)):
                    db.session.add(
                        Recording(
                            interview_id=interview.id,
                            position=position,
                            original_filename=f"p{position}.wav",
                            storage_key=f"k{n}{position}",
                            sha256="0" * 64,
                            size=1,
                            format="wav",
                            mime="audio/wav",
                            duration_ms=ms,
                        )
                    )
                db.session.add(
                    Transcript(
                        interview_id=interview.id, version=1, is_current=True, source_format="vtt"
                    )
                )
            ids.append(interview.id)
        db.session.commit()
    return ids


def _item(page: str, title: str) -> str:
    return re.search(rf">{title}</a>.*?</li>", page, re.S).group(0)


def test_each_interview_shows_narrator_duration_access_and_what_there_is(app, browser):
    _make(app, 2)
    page = browser(None).get("/interviews").get_data(as_text=True)
    first, second = _item(page, "Listed 000"), _item(page, "Listed 001")
    assert "Narrator: Mary Smith" in first and "Narrator: Mary Smith" in second
    assert "0:01:04" in first  # both parts
    assert 'class="badge level-open">open<' in first
    assert 'class="badge level-restricted">on request<' in second
    assert "has audio" in first and "has transcript" in first
    assert "no audio" in second and "no transcript" in second


def test_the_list_costs_the_same_queries_for_3_or_30_interviews(app, browser):
    client = browser(None)

    def queries() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/interviews?per_page=50").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    _make(app, 3)
    few = queries()
    _make_more(app, 27)
    assert queries() == few


def _make_more(app, count: int) -> None:
    with app.app_context():
        narrator = db.session.query(Person).first()
        for n in range(count):
            interview = Interview(
                accession=f"OH-M-{n:03d}", title=f"More {n:03d}", status="published"
            )
            interview.participants.append(Participant(person=narrator, role="interviewee"))
            db.session.add(interview)
        db.session.commit()
