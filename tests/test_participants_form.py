"""The interview form's participants (#15): labelled rows with the narrator first and the
interviewer second, and a new person added by typing a name, without leaving the form."""

from __future__ import annotations

import re

from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import Interview, Person


def _rows(page: str) -> list[tuple[str, str]]:
    """(label of the name field, selected role) per participant row."""
    rows = []
    for block in re.findall(r'<div class="participant">(.*?)</select>', page, re.S):
        label = re.search(r'<label for="p-name-\d+">(.*?)</label>', block).group(1)
        role = re.search(r'<option value="(\w+)" selected>', block).group(1)
        rows.append((label, role))
    return rows


def test_a_new_interview_offers_narrator_then_interviewer(app, browser):
    page = browser("contributor").get("/interviews/new").get_data(as_text=True)
    assert _rows(page) == [
        ("Narrator (interviewee)", "interviewee"),
        ("Interviewer", "interviewer"),
    ]
    # every control is labelled: the name field and the role select
    for n in (1, 2):
        assert f'<label for="p-name-{n}">' in page and f'id="p-name-{n}"' in page
        assert f'<label for="p-role-{n}">Role</label>' in page
    assert "people.js" in page


def test_typed_names_become_people_and_chosen_ones_are_kept(app, browser):
    client = browser("contributor")
    with app.app_context():
        known = Person(name="Ruth Adler", sort_name="Adler, Ruth")
        db.session.add(known)
        db.session.commit()
        known_id = known.id
    response = client.post(
        "/interviews/new",
        data={
            "title": "Typed names",
            "participant_person": ["", str(known_id), ""],
            "participant_name": ["  Mary   Smith ", "Ruth Adler", ""],
            "participant_role": ["interviewee", "interviewer", "other"],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    with app.app_context():
        interview = db.session.scalar(select(Interview))
        assert [(p.person.name, p.role) for p in interview.participants] == [
            ("Mary Smith", "interviewee"),
            ("Ruth Adler", "interviewer"),
        ]
        smith = db.session.scalar(select(Person).where(Person.name == "Mary Smith"))
        assert smith.sort_name == "Smith, Mary"
        iid = interview.id
    # A name typed again that matches one person exactly is that person, not a duplicate;
    # editing shows the rows with their people, and an emptied name removes the row.
    edit = client.get(f"/interviews/{iid}/edit").get_data(as_text=True)
    assert _rows(edit)[:2] == [("Person 1", "interviewee"), ("Person 2", "interviewer")]
    assert 'value="Mary Smith"' in edit
    client.post(
        f"/interviews/{iid}/edit",
        data={
            "title": "Typed names",
            "participant_person": ["", ""],
            "participant_name": ["mary smith", ""],
            "participant_role": ["interviewee", "interviewer"],
        },
    )
    with app.app_context():
        interview = db.session.get(Interview, iid)
        assert [(p.person.name, p.role) for p in interview.participants] == [
            ("Mary Smith", "interviewee")
        ]
        assert db.session.query(Person).filter(Person.name == "Mary Smith").count() == 1


def test_a_chosen_person_whose_name_was_changed_is_a_new_person(app, browser):
    client = browser("contributor")
    with app.app_context():
        known = Person(name="Ruth Adler", sort_name="Adler, Ruth")
        db.session.add(known)
        db.session.commit()
        known_id = known.id
    client.post(
        "/interviews/new",
        data={
            "title": "Changed",
            "participant_person": [str(known_id)],
            "participant_name": ["Ruth Adlington"],
            "participant_role": ["interviewer"],
        },
    )
    with app.app_context():
        interview = db.session.scalar(select(Interview))
        (participant,) = interview.participants
        assert participant.person.name == "Ruth Adlington" and participant.person_id != known_id


def test_an_ambiguous_name_is_refused_naming_it(app, browser):
    with app.app_context():
        db.session.add_all([Person(name="John Brown"), Person(name="John Brown")])
        db.session.commit()
    response = browser("contributor").post(
        "/interviews/new",
        data={
            "title": "Ambiguous",
            "participant_person": [""],
            "participant_name": ["John Brown"],
            "participant_role": ["interviewee"],
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "several people called John Brown" in page
    assert 'value="John Brown"' in page
    with app.app_context():
        assert db.session.query(Interview).count() == 0


def test_the_api_takes_names_too(app, browser):
    response = browser("contributor").post(
        "/api/v1/interviews",
        json={"title": "By API", "participants": [{"name": "Ada Lovelace", "role": "interviewee"}]},
    )
    assert response.status_code == 201
    (participant,) = response.json["participants"]
    with app.app_context():
        assert db.session.get(Person, participant["person_id"]).name == "Ada Lovelace"
