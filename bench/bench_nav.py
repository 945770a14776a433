"""What the navigation's counts cost (#15): pending access requests, drafts awaiting review
and unread notifications, in one query per page (``services.navigation``).

An archive of ``--interviews`` interviews (a tenth of them drafts awaiting review), ten
access requests per hundred interviews of which a tenth pending, and ``--notifications``
notifications spread over 500 users. Measures, for an archivist and a researcher: the one
count query (median and p95 of 300 runs) and the server time of ``GET /interviews`` with the
counts and with them switched off (median of 50 each, interleaved).

    .venv/bin/python bench/bench_nav.py [--interviews 10000] [--notifications 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _server import bench_app


def build(app, interviews: int, notifications: int) -> dict[str, int]:
    from sqlalchemy import insert

    from oralhist.extensions import db
    from oralhist.models import AccessRequest, Interview, Notification, User
    from oralhist.services import accounts

    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        archivist = accounts.create_user("a@example.org", "bench-password-123", role="archivist")
        researcher = accounts.create_user("r@example.org", "bench-password-123")
        db.session.flush()
        users = [
            {
                "email": f"u{n}@example.org",
                "name": f"U{n}",
                "password_hash": "x",
                "role": "researcher",
            }
            for n in range(500)
        ]
        db.session.execute(insert(User), users)
        db.session.execute(
            insert(Interview),
            [
                {
                    "accession": f"OH-B-{n:06d}",
                    "title": f"Bench {n}",
                    "status": "draft" if n % 10 == 0 else "published",
                    "access_level": "restricted",
                    "review_requested_at": now if n % 10 == 0 else None,
                }
                for n in range(interviews)
            ],
        )
        requests = interviews // 10
        db.session.execute(
            insert(AccessRequest),
            [
                {
                    "requester_id": researcher.id,
                    "interview_id": 1 + n,
                    "purpose": "Bench.",
                    "status": "pending" if n % 10 == 0 else "denied",
                }
                for n in range(requests)
            ],
        )
        db.session.execute(
            insert(Notification),
            [
                {
                    "user_id": 3 + (n % 500) if n % 50 else researcher.id,
                    "message": "Bench notice.",
                    "read_at": None if n % 3 == 0 else now,
                }
                for n in range(notifications)
            ],
        )
        db.session.commit()
        return {"archivist": archivist.id, "researcher": researcher.id}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=10_000)
    parser.add_argument("--notifications", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(tmp)
        app.config["SERVER_NAME"] = "localhost"
        ids = build(app, args.interviews, args.notifications)
        from oralhist.access import load_viewer
        from oralhist.extensions import db
        from oralhist.models import User
        from oralhist.services import navigation

        results: dict = {
            "interviews": args.interviews,
            "notifications": args.notifications,
            "loadavg": os.getloadavg(),
        }
        for role, user_id in ids.items():
            with app.test_request_context():
                viewer = load_viewer(db.session.get(User, user_id))
                counts = navigation.nav_counts(viewer)
                times = []
                for _ in range(300):
                    start = time.perf_counter()
                    navigation.nav_counts(viewer)
                    times.append((time.perf_counter() - start) * 1000)
            client = app.test_client()
            client.post(
                "/login", data={"email": f"{role[0]}@example.org", "password": "bench-password-123"}
            )
            page_with, page_without = [], []
            original = navigation.nav_counts
            for _ in range(50):
                start = time.perf_counter()
                assert client.get("/interviews").status_code == 200
                page_with.append((time.perf_counter() - start) * 1000)
                navigation.nav_counts = lambda viewer: navigation.NOTHING
                try:
                    start = time.perf_counter()
                    assert client.get("/interviews").status_code == 200
                    page_without.append((time.perf_counter() - start) * 1000)
                finally:
                    navigation.nav_counts = original
            results[role] = {
                "counts": counts.__dict__,
                "count_query_ms_median": round(statistics.median(times), 3),
                "count_query_ms_p95": round(percentile(times, 95), 3),
                "interviews_page_ms_median_with_counts": round(statistics.median(page_with), 2),
                "interviews_page_ms_median_without": round(statistics.median(page_without), 2),
            }
    out = Path(__file__).resolve().parent / "results" / "nav.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
