"""What anonymisation costs the lists (#16 "page and search latency unchanged"): the
interview list, a collection page, the home page, the people list and the API list for an
anonymous reader, on ``--interviews`` published interviews (two narrators and an
interviewer each, every narrator with a signed agreement) in one collection, with no
narrator anonymised and then with ``--anonymised`` percent of them anonymised (the first
page always holds some). Server time in process, median and p95 of ``--runs`` GETs each,
interleaved. Run it on the code before a change with ``--root`` (a checkout of it).

    .venv/bin/python bench/bench_privacy.py [--interviews 5000] [--anonymised 10] [--runs 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--interviews", type=int, default=5000)
parser.add_argument("--anonymised", type=float, default=10.0)
parser.add_argument("--runs", type=int, default=40)
parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
args = parser.parse_args()

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, args.root)

from _server import bench_app  # noqa: E402

PAGES = ("/interviews", "/collections/bench", "/", "/people", "/api/v1/interviews")


def build(app, count: int) -> None:
    from sqlalchemy import insert, select

    from oralhist.extensions import db
    from oralhist.models import Collection, Interview, Participant, Person, ReleaseAgreement

    with app.app_context():
        db.session.add(Collection(slug="bench", title="Bench"))
        db.session.flush()
        cid = db.session.scalar(select(Collection.id))
        db.session.execute(
            insert(Person),
            [{"name": f"Person{n} Surname{n}", "sort_name": f"Surname{n}"} for n in range(count)],
        )
        db.session.execute(
            insert(Interview),
            [
                {
                    "accession": f"OH-B-{n:06d}",
                    "title": f"Interview with Person{n} Surname{n}",
                    "summary": f"Person{n} remembers.",
                    "status": "published",
                    "access_level": "open",
                    "collection_id": cid,
                    "consent_override": "bench",
                }
                for n in range(count)
            ],
        )
        ids = list(db.session.scalars(select(Interview.id).order_by(Interview.id)))
        people = list(db.session.scalars(select(Person.id).order_by(Person.id)))
        rows = []
        for n, iid in enumerate(ids):
            rows.append(
                {"interview_id": iid, "person_id": people[n], "role": "interviewee", "position": 0}
            )
            rows.append(
                {
                    "interview_id": iid,
                    "person_id": people[(n + 1) % count],
                    "role": "interviewee",
                    "position": 1,
                }
            )
            rows.append(
                {
                    "interview_id": iid,
                    "person_id": people[(n + 2) % count],
                    "role": "interviewer",
                    "position": 2,
                }
            )
        db.session.execute(insert(Participant), rows)
        narrators = (
            db.session.execute(select(Participant.id).where(Participant.role == "interviewee"))
            .scalars()
            .all()
        )
        db.session.execute(
            insert(ReleaseAgreement),
            [
                {
                    "participant_id": pid,
                    "status": "signed",
                    "publication": "full",
                    "anonymise": False,
                    "conditions": "",
                }
                for pid in narrators
            ],
        )
        db.session.commit()


def anonymise(app, percent: float) -> int:
    from sqlalchemy import select, update

    from oralhist.extensions import db
    from oralhist.models import ReleaseAgreement

    with app.app_context():
        ids = db.session.scalars(select(ReleaseAgreement.id).order_by(ReleaseAgreement.id)).all()
        step = max(1, round(100 / percent)) if percent else 0
        chosen = ids[::step] if step else []
        if chosen:
            db.session.execute(
                update(ReleaseAgreement)
                .where(ReleaseAgreement.id.in_(chosen))
                .values(anonymise=True)
            )
        db.session.commit()
        return len(chosen)


def measure(app, runs: int) -> dict[str, dict[str, float]]:
    client = app.test_client()
    times: dict[str, list[float]] = {p: [] for p in PAGES}
    for page in PAGES:
        assert client.get(page).status_code == 200, page
    for _ in range(runs):
        for page in PAGES:
            start = time.perf_counter()
            client.get(page)
            times[page].append((time.perf_counter() - start) * 1000)
    return {
        p: {
            "median_ms": round(statistics.median(t), 2),
            "p95_ms": round(sorted(t)[int(0.95 * (len(t) - 1))], 2),
        }
        for p, t in times.items()
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(tmp)
        build(app, args.interviews)
        plain = measure(app, args.runs)
        anonymised = anonymise(app, args.anonymised)
        withheld = measure(app, args.runs)
    result = {
        "root": args.root,
        "interviews": args.interviews,
        "anonymised_agreements": anonymised,
        "no_anonymisation": plain,
        "with_anonymisation": withheld,
    }
    out = Path(__file__).resolve().parent / "results" / "privacy.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
