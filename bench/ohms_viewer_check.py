"""Open this archive's OHMS exports in the OHMS viewer itself and say what it shows.

    .venv/bin/python bench/ohms_viewer_check.py --viewer PATH/TO/ohms-viewer [--out DIR]
        [--reference FILE.xml ...]

PATH is a checkout of https://github.com/uklibraries/ohms-viewer (a PHP application; GPL,
so it is never copied into this project). Needs Debian's ``php-cli``, ``php-xml`` and
``php-mbstring``; the viewer loads jQuery 1.7 and jQuery UI 1.8 from Google's CDN, which a
machine without the internet cannot reach, so the page is given Debian's ``libjs-jquery``
and ``libjs-jquery-ui`` in their place (newer versions: a difference the report names).

What it does: a temporary archive (``oralhist init``, ``load-sample``) is served on
loopback; the sample interview and a real OHMS file (imported, then exported) are exported
as OHMS XML; the viewer (a temporary copy of the checkout, with a ``config.ini`` whose
repository is this archive) is served with ``php -S`` on loopback; each export, and each
``--reference`` file (an OHMS export made by OHMS itself), is opened in Chromium. For each
it reports the transcript lines, the sync links, the index points, whether the player has
a source, and whether a click on a sync link moves the player there; it saves a
screenshot of each page in DIR. Nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import Project, free_port  # noqa: E402

JQUERY = Path("/usr/share/javascript/jquery/jquery.min.js")
JQUERY_UI = Path("/usr/share/javascript/jquery-ui/jquery-ui.min.js")
REAL_OHMS = ROOT.parent / "shared" / "testdata" / "scihist" / "ohms_xml"

#: What the viewer page shows, read in the browser.
MEASURE = """
() => ({
  title: (document.querySelector('h1, #title, .title') || {}).textContent || document.title,
  lines: document.querySelectorAll('#transcript-panel .transcript-line, .transcript-line').length,
  syncLinks: document.querySelectorAll('.jumpLink').length,
  indexPoints: document.querySelectorAll('#accordionHolder > h3, #index-panel h3').length,
  indexText: ((document.querySelector('#accordionHolder') || {}).innerText || '').slice(0, 200),
  media: (() => { const m = document.querySelector('audio, video');
                  return m ? (m.currentSrc || m.src || '') : ''; })(),
  metadata: ((document.querySelector('#search-panel, .info, #header') || {}).innerText || '')
              .slice(0, 400),
})
"""


def export_from_archive(folder: Path) -> tuple[Project, list[Path]]:
    """A served temporary archive with the sample and an imported real OHMS file; their
    OHMS exports written to ``folder``."""
    project = Project(prefix="oh-ohms-viewer-")
    port = free_port()
    project.env["OH_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    project.oh("init")
    project.oh("load-sample")
    token = project.user("archivist@example.org", "archivist")
    # serve on the port the exports name (Project.serve picks its own port)
    project.port = port
    project.log = open(project.dir / "server.log", "w")  # noqa: SIM115
    project.server = subprocess.Popen(
        [str(Path(sys.executable).with_name("oralhist")), "serve", "--port", str(port)],
        cwd=project.dir,
        env=project.env,
        stdout=project.log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    headers = {"Authorization": f"Bearer {token}"}

    def call(path: str, data: bytes | None = None, method: str = "GET", **extra) -> bytes:
        request = urllib.request.Request(
            project.url(path), data=data, method=method, headers={**headers, **extra}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()

    deadline = time.time() + 120
    while True:
        try:
            call("/api/v1/collections")
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    written = []
    interviews = json.loads(call("/api/v1/interviews?per_page=100"))["items"]
    sample = next(i for i in interviews if i["accession"] == "OH-SAMPLE-001")
    path = folder / "oralhist-sample.xml"
    path.write_bytes(call(f"/api/v1/interviews/{sample['id']}/transcript?format=ohms"))
    written.append(path)
    real = REAL_OHMS / "chappelear-ohmsvtt-example.xml"
    if real.is_file():
        made = json.loads(
            call(
                "/api/v1/interviews",
                json.dumps({"title": "Chappelear (re-exported)"}).encode(),
                "POST",
                **{"Content-Type": "application/json"},
            )
        )
        boundary = "ohmsviewercheck"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{real.name}"\r\nContent-Type: application/xml\r\n\r\n'
            ).encode()
            + real.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        call(
            f"/api/v1/interviews/{made['id']}/transcripts",
            body,
            "POST",
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        call(f"/api/v1/interviews/{made['id']}/publish", b"", "POST")
        path = folder / "oralhist-chappelear.xml"
        path.write_bytes(call(f"/api/v1/interviews/{made['id']}/transcript?format=ohms"))
        written.append(path)
    return project, written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewer", type=Path, required=True, help="an ohms-viewer checkout")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ohms-viewer-check"))
    parser.add_argument("--reference", type=Path, nargs="*", default=[], help="OHMS's own files")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    if not shutil.which("php"):
        print("needs php (apt-get install php-cli php-xml php-mbstring)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ohms-viewer-"))
    viewer = work / "viewer"
    cache = work / "cache"
    shutil.copytree(args.viewer, viewer, ignore=shutil.ignore_patterns(".git"))
    cache.mkdir()
    (viewer / "config" / "config.ini").write_text(
        f"tmpDir = {cache}\nplayers = other,brightcove,kaltura,youtube,soundcloud,vimeo,"
        "avalon,aviary\ntimezone = UTC\nexhibit_mode = false\nprint_mode = false\n\n"
        "[oralhist]\ncss = custom_default.css\ncopyrightholder = oralhist\n"
        "[Science History Institute]\ncss = custom_default.css\n"
    )
    project, files = export_from_archive(cache)
    for reference in args.reference:
        shutil.copy(reference, cache / reference.name)
        files.append(cache / reference.name)
    php_port = free_port()
    php = subprocess.Popen(
        ["php", "-S", f"127.0.0.1:{php_port}"],
        cwd=viewer,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    results = {}
    try:
        time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})

            def route(r):
                url = r.request.url
                if url.startswith(f"http://127.0.0.1:{php_port}/") or url.startswith(
                    f"http://127.0.0.1:{project.port}/"
                ):
                    return r.continue_()
                if "jquery-ui" in url and "googleapis" in url:
                    return r.fulfill(path=str(JQUERY_UI), content_type="text/javascript")
                if "jquery" in url and "googleapis" in url:
                    return r.fulfill(path=str(JQUERY), content_type="text/javascript")
                return r.abort()  # nothing leaves loopback

            page.route("**/*", route)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)[:200]))
            for path in files:
                errors.clear()
                page.goto(f"http://127.0.0.1:{php_port}/index.php?cachefile={path.name}")
                page.wait_for_timeout(2500)
                found = page.evaluate(MEASURE)
                shot = args.out / f"{path.stem}.png"
                page.screenshot(path=str(shot), full_page=False)
                jumped = None
                if found["syncLinks"]:
                    link = page.locator(".jumpLink").nth(min(3, found["syncLinks"] - 1))
                    link.dispatch_event("click")  # hidden in a collapsed panel for some
                    page.wait_for_timeout(1500)
                    jumped = page.evaluate(
                        "() => { const m = document.querySelector('audio, video');"
                        " return m ? m.currentTime : null; }"
                    )
                results[path.name] = {**found, "jump_to_time_s": jumped, "errors": list(errors)}
                results[path.name]["screenshot"] = str(shot)
            browser.close()
    finally:
        for path in files:
            shutil.copy(path, args.out / path.name)  # what the viewer was given
        os.killpg(php.pid, signal.SIGTERM)
        php.wait(timeout=10)
        project.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
