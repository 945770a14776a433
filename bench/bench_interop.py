"""What the interoperability endpoints cost (issue 17): a full OAI-PMH harvest (ListRecords
in oai_dc and MODS, every page), a IIIF manifest, the sitemap, and the interview page with
and without its schema.org JSON-LD, on a synthetic archive of N published interviews (two
participants, three index points with keywords, a passage link each).

    python bench/bench_interop.py [--interviews 1000]

In-process (the Flask test client): the figures are the application's own cost, without
the WSGI server. Writes bench/results/interop.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench._server import bench_app  # noqa: E402

RESULTS = HERE / "results"


def build(app, n: int) -> list[int]:
    from oralhist.access.policy import Viewer
    from oralhist.extensions import db
    from oralhist.models import IndexPoint, Transcript
    from oralhist.services import catalogue, documents, mentions

    archivist = Viewer(user_id=None, role="archivist")
    ids = []
    with app.test_request_context():
        collection = catalogue.save_collection(archivist, {"slug": "bench", "title": "Bench"})
        doc = documents.save_document(archivist, {"title": "A pamphlet", "access_level": "open"})
        people = [catalogue.save_person(archivist, {"name": f"Person {k}"}) for k in range(50)]
        db.session.flush()
        for i in range(n):
            interview = catalogue.save_interview(
                archivist,
                {
                    "title": f"Interview {i}",
                    "collection_id": collection.id,
                    "summary": "A summary of the interview. " * 5,
                    "date_recorded": "1957-03",
                    "rights_statement": "CC BY-NC 4.0",
                    "participants": [
                        {"person_id": people[i % 50].id, "role": "interviewee"},
                        {"person_id": people[(i + 1) % 50].id, "role": "interviewer"},
                    ],
                },
            )
            catalogue.publish(archivist, interview)
            transcript = Transcript(
                interview_id=interview.id,
                version=1,
                is_current=True,
                language="en",
                source_format="vtt",
                source_filename="x.vtt",
            )
            db.session.add(transcript)
            db.session.flush()
            for k in range(3):
                db.session.add(
                    IndexPoint(
                        transcript_id=transcript.id,
                        position=k,
                        start_ms=k * 60000,
                        title=f"Point {k}",
                        synopsis="What was said.",
                        keywords=[f"kw{k}"],
                    )
                )
            mentions.add_mention(archivist, doc, interview, 0, 1000, "A note.")
            ids.append(interview.id)
            if i % 200 == 199:
                db.session.commit()
        db.session.commit()
    return ids


def timed(fn, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def harvest(client, prefix: str) -> tuple[int, list[float]]:
    from lxml import etree

    ns = {"o": "http://www.openarchives.org/OAI/2.0/"}
    pages, records = [], 0
    args = {"verb": "ListRecords", "metadataPrefix": prefix}
    while True:
        start = time.perf_counter()
        body = client.get("/oai", query_string=args).data
        pages.append((time.perf_counter() - start) * 1000)
        root = etree.fromstring(body)
        records += len(root.findall(".//o:record", ns))
        token = root.find(".//o:resumptionToken", ns)
        if token is None or not token.text:
            return records, pages
        args = {"verb": "ListRecords", "resumptionToken": token.text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interviews", type=int, default=1000)
    n = parser.parse_args().interviews
    with tempfile.TemporaryDirectory() as tmp:
        app = bench_app(tmp)
        app.config["SERVER_NAME"] = "localhost"
        started = time.perf_counter()
        ids = build(app, n)
        built_s = time.perf_counter() - started
        client = app.test_client()
        result: dict = {"interviews": n, "build_s": round(built_s, 1)}
        for prefix in ("oai_dc", "mods"):
            start = time.perf_counter()
            records, pages = harvest(client, prefix)
            result[f"harvest_{prefix}"] = {
                "records": records,
                "pages": len(pages),
                "total_s": round(time.perf_counter() - start, 2),
                "page_p50_ms": round(statistics.median(pages), 1),
                "page_max_ms": round(max(pages), 1),
            }
        middle = ids[len(ids) // 2]
        manifest = timed(lambda: client.get(f"/iiif/interviews/{middle}/manifest"), 20)
        result["manifest_p50_ms"] = round(statistics.median(manifest), 1)
        sitemap = timed(lambda: client.get("/sitemap.xml"), 5)
        result["sitemap_p50_ms"] = round(statistics.median(sitemap), 1)
        page = timed(lambda: client.get(f"/interviews/{middle}"), 20)
        from oralhist.web import catalogue, discovery

        panels = catalogue.INTERVIEW_PANELS
        panels.remove(discovery.jsonld_panel)
        without = timed(lambda: client.get(f"/interviews/{middle}"), 20)
        panels.append(discovery.jsonld_panel)
        result["interview_page_p50_ms"] = round(statistics.median(page), 1)
        result["interview_page_without_jsonld_p50_ms"] = round(statistics.median(without), 1)
        result["loadavg"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "interop.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
