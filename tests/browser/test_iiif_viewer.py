"""A real IIIF AV viewer (Samvera's Clover IIIF, from the npm registry) loads an interview's
manifest from another origin in Chromium: it plays the audio, shows the transcript
annotation and follows an index range.

The viewer is fetched with ``npm pack`` (pinned version) into a cache folder the first time,
and served by a second local server (its own origin, so CORS is exercised as on a real
site). Skipped, with the reason, when npm or the registry is unavailable.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from tests.interop.conftest import archive, clock  # noqa: F401 (fixtures)

CLOVER = "@samvera/clover-iiif@3.3.8"
CACHE = Path(os.environ.get("OH_TEST_CACHE", Path.home() / ".cache" / "oralhist-tests"))

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clover</title></head>
<body><clover-viewer id="{manifest}"></clover-viewer>
<script src="clover.umd.js"></script></body></html>
"""


@functools.cache
def clover_bundle() -> Path | str:
    """The Clover web-component bundle, or the reason it cannot be had."""
    target = CACHE / "clover-iiif-3.3.8" / "index.umd.js"
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        return "the IIIF viewer test needs npm (apt-get install npm) to fetch Clover IIIF"
    work = target.parent
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "pack", CLOVER, "--silent"], cwd=work, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return f"npm pack {CLOVER} failed (no registry?): {done.stderr.strip()[:200]}"
    tarball = work / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive_file:
        member = archive_file.getmember("package/dist/web-components/index.umd.js")
        target.write_bytes(archive_file.extractfile(member).read())
    tarball.unlink()
    return target


@pytest.fixture
def viewer_site(app, tmp_path, live_server, archive):  # noqa: F811
    live_server_app = app
    bundle = clover_bundle()
    if isinstance(bundle, str):
        pytest.skip(bundle)
    # Links in the manifest are built from the public address: here, the live server's.
    live_server_app.config["PUBLIC_BASE_URL"] = live_server
    site = tmp_path / "site"
    site.mkdir()
    shutil.copyfile(bundle, site / "clover.umd.js")
    manifest = f"{live_server}/iiif/interviews/{archive.ids['open']}/manifest"
    (site / "index.html").write_text(PAGE.format(manifest=manifest), encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/index.html", manifest
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_clover_plays_the_interview_with_its_transcript_and_index(chromium, viewer_site):
    context = chromium.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    page_url, manifest_url = viewer_site
    tab.goto(page_url)
    # The manifest is loaded from the archive (another origin): its record is shown.
    tab.get_by_text("Ada Pellow").first.wait_for()
    assert tab.get_by_text("Down the pit").first.is_visible()
    player = tab.locator("video#clover-iiif-video")
    player.wait_for(state="attached")
    assert player.get_attribute("src").endswith("/recordings/1/audio")
    # The transcript annotation is the player's text track, with the speakers' words.
    tab.wait_for_function(
        """() => {
            const v = document.querySelector('video');
            const t = [...v.textTracks].find(t => t.label === 'Transcript');
            if (!t) return false;
            t.mode = 'showing';
            return t.cues && t.cues.length === 2;
        }"""
    )
    cues = tab.evaluate(
        """() => [...[...document.querySelector('video').textTracks]
            .find(t => t.label === 'Transcript').cues].map(c => [c.startTime, c.text])"""
    )
    assert cues == [
        [0, "<v Ada Pellow>We worked by Lanternlight in the pit."],
        [0.4, "<v Interviewer>And the Cokeoven?"],
    ]
    # It plays (the audio crosses origins: Clover asks with crossorigin="anonymous").
    tab.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.play(); }")
    tab.wait_for_function("() => document.querySelector('video').currentTime > 0.1")
    assert tab.evaluate("() => document.querySelector('video').error") is None
    # Following the index: the second Range's media fragment, taken from the manifest the
    # viewer loaded, moves the player to the passage (Clover 3 has no Range menu of its own).
    target = tab.evaluate(
        """async (url) => {
            const m = await (await fetch(url)).json();
            const range = m.structures[0].items[1];
            return [range.label.en[0], range.items[0].id.split('#t=')[1]];
        }""",
        manifest_url,
    )
    assert target[0] == "Ovens"
    start = float(target[1].split(",")[0])
    tab.evaluate(
        "(t) => { const v = document.querySelector('video'); v.pause(); v.currentTime = t; }",
        start + 0.05,  # inside the range, past the previous cue's end
    )
    tab.wait_for_function(
        """() => {
            const t = [...document.querySelector('video').textTracks]
                .find(t => t.label === 'Transcript');
            t.mode = 'showing';
            return [...(t.activeCues || [])].some(c => c.text.includes('Cokeoven'));
        }"""
    )
    assert errors == []
    context.close()
