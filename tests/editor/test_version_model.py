"""The version model without HTTP: sort keys with gaps, word diffs, word timings kept or
dropped by an edit, what a save stores (shared rows), and the migration's conversion of
existing versions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from oralhist.models import Segment, Transcript
from oralhist.models.transcript import POSITION_GAP
from oralhist.services.transcript_editing import (
    _split_words,
    _words_for_text,
    allocate_keys,
)
from oralhist.services.transcript_versions import word_diff

G = POSITION_GAP


def test_new_rows_take_keys_between_their_kept_neighbours():
    keys, given_up = allocate_keys([0, None, G, 2 * G])
    assert keys[0] == 0 and keys[2:] == [G, 2 * G] and 0 < keys[1] < G and given_up == set()


def test_runs_at_the_ends_and_alone():
    assert allocate_keys([None, None]) == ([G, 2 * G], set())
    keys, _ = allocate_keys([None, 5 * G, None])
    assert keys == [4 * G, 5 * G, 6 * G]


def test_a_narrow_gap_re_keys_the_next_rows_only():
    keys, given_up = allocate_keys([0, None, 1, 2, 10 * G])
    assert given_up == {2, 3}  # the rows keyed 1 and 2 are copied with new keys
    assert keys[0] == 0 and keys[-1] == 10 * G
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_twenty_splits_at_one_spot_fit_in_the_gap():
    keys = [0, G]
    for _ in range(20):
        keys.insert(1, None)
        keys, given_up = allocate_keys(keys)
        assert given_up == set()
    assert keys == sorted(keys) and len(set(keys)) == 22


def test_word_diff():
    assert word_diff("a b c", "a x c") == [
        ("equal", "a"),
        ("delete", "b"),
        ("insert", "x"),
        ("equal", "c"),
    ]
    assert word_diff("same", "same") == [("equal", "same")]
    assert word_diff("", "new words") == [("insert", "new words")]


def test_word_timings_follow_a_punctuation_fix_but_not_new_words():
    words = [["hello", 0, 500, 0.9], ["world", 500, 900, 0.8]]
    assert _words_for_text(words, "Hello, world!") == [
        ["Hello,", 0, 500, 0.9],
        ["world!", 500, 900, 0.8],
    ]
    assert _words_for_text(words, "hello there world") is None


def test_a_split_divides_the_word_timings():
    words = [["a", 0, 1, None], ["b", 1, 2, None], ["c", 2, 3, None]]
    assert _split_words(words, "a b c", 2) == ([words[0]], words[1:])
    assert _split_words(None, "a b c", 2) == (None, None)


def test_versions_share_rows_and_history_stays_as_it_was(app, users):
    from oralhist.access.policy import Viewer
    from oralhist.extensions import db
    from oralhist.services import catalogue, transcript_editing, transcripts

    vtt = "WEBVTT\n\n" + "".join(
        f"00:00:{n:02d}.000 --> 00:00:{n + 1:02d}.000\nLine {n}.\n\n" for n in range(40)
    )
    with app.test_request_context():
        viewer = Viewer(user_id=users["archivist"], role="archivist")
        interview = catalogue.save_interview(viewer, {"title": "Shared rows"})
        transcripts.import_transcript(viewer, interview, vtt.encode(), "a.vtt")
        db.session.flush()
        first = interview.current_transcript.segments
        result = transcript_editing.save_edits(
            viewer,
            interview,
            [
                {"op": "update", "segment_id": first[10].id, "text": "Line ten."},
                {"op": "split", "segment_id": first[20].id, "offset": 5, "at_ms": 20500},
            ],
            base_version=1,
        )
        db.session.flush()
        assert result.version == 2 and result.changes == {"edited": 1, "split": 1}
        # 40 imported + the old texts of the two edited rows + the split's second part.
        assert db.session.scalar(select(func.count()).select_from(Segment)) == 43
        v1, v2 = (
            db.session.scalar(select(Transcript).where(Transcript.version == n)) for n in (1, 2)
        )
        old, new = v1.segments, v2.segments
        assert [s.text for s in old] == [f"Line {n}." for n in range(40)]
        assert len(new) == 41 and new[10].text == "Line ten." and new[10].id == first[10].id
        assert (new[20].text, new[21].text, new[21].start_ms) == ("Line", "20.", 20500)
        shared = {s.id for s in old} & {s.id for s in new}
        assert len(shared) == 38
        # A new import shares nothing and retires every row of the version before it.
        transcripts.import_transcript(viewer, interview, vtt.encode(), "b.vtt")
        db.session.flush()
        open_rows = db.session.scalar(
            select(func.count()).select_from(Segment).where(Segment.last_version.is_(None))
        )
        assert open_rows == 40
        assert len(v2.segments) == 41 and len(v1.segments) == 40


#: The revision just before the editor's migration (0008_editor).
BEFORE_EDITOR = "0007_interop"


@pytest.mark.committing  # runs migrations: a database of its own (tests/savepoints.py)
def test_the_migration_converts_existing_versions(app):
    """Versions stored before 0006 (each with its own rows, positions 0..n-1) come out
    retired at their own version, the newest open, and positions spread; the downgrade
    gives every version its own rows again."""
    from flask_migrate import downgrade, upgrade

    rows = 3

    from oralhist.extensions import db
    from tests.test_migrations import reset_schema

    with app.app_context():
        directory = app.extensions["migrate"].directory
        reset_schema()
        upgrade(directory=directory, revision=BEFORE_EDITOR)
        with db.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO interview (id, accession, title, summary, date_recorded, place, "
                    "language, rights_statement, access_level, status, created_at, updated_at) "
                    "VALUES (1, 'OH-1', 'T', '', '', '', 'en', '', 'open', 'draft', "
                    "'2026-01-01', '2026-01-01')"
                )
            )
            for version in (1, 2):
                c.execute(
                    text(
                        "INSERT INTO transcript (id, interview_id, version, is_current, "
                        "language, source_format, source_filename, segment_count, warnings, "
                        "created_at) VALUES (:v, 1, :v, :cur, 'en', 'vtt', 'f', :n, '[]', "
                        "'2026-01-01')"
                    ),
                    {"v": version, "cur": version == 2, "n": rows},
                )
                for position in range(rows):
                    c.execute(
                        text(
                            "INSERT INTO segment (transcript_id, position, start_ms, end_ms, "
                            "text) VALUES (:t, :p, :s, :e, :x)"
                        ),
                        {
                            "t": version,
                            "p": position,
                            "s": position * 1000,
                            "e": position * 1000 + 900,
                            "x": f"v{version} line {position}",
                        },
                    )
        upgrade(directory=directory)
        with db.engine.connect() as c:
            found = c.execute(
                text(
                    "SELECT transcript_id, position, last_version, text FROM segment "
                    "ORDER BY transcript_id, position"
                )
            ).all()
        assert [(t, p, last) for t, p, last, _ in found] == [
            (1, 0, 1),
            (1, G, 1),
            (1, 2 * G, 1),
            (2, 0, None),
            (2, G, None),
            (2, 2 * G, None),
        ]
        db.session.remove()
        for version, expected in ((1, "v1 line"), (2, "v2 line")):
            t = db.session.scalar(select(Transcript).where(Transcript.version == version))
            assert [s.text for s in t.segments] == [f"{expected} {n}" for n in range(rows)]
        db.session.remove()
        downgrade(directory=directory, revision=BEFORE_EDITOR)
        with db.engine.connect() as c:
            back = c.execute(
                text("SELECT transcript_id, position FROM segment ORDER BY transcript_id, position")
            ).all()
        assert back == [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
        reset_schema()
