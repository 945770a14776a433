"""probe_audio against real files: the mutagen corpus, the Science History Institute's
samples, the JFK speech in four formats, and disguised or hostile uploads."""

from __future__ import annotations

import json
import shutil
import struct
import time
import tracemalloc
from pathlib import Path
from typing import Any

import mutagen
import pytest

from oralhist.errors import UnsupportedMedia
from oralhist.media import probe
from oralhist.media.probe import (
    ACCEPTED_EXTENSIONS,
    BROWSER_PLAYABLE,
    FAMILIES,
    AudioInfo,
    probe_audio,
)
from oralhist.media.sniff import extension_of
from oralhist.media.storage import display_filename

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"

CORPUS = TESTDATA / "mutagen" / "data"


def _expectations() -> dict[str, dict[str, Any]]:
    path = TESTDATA / "mutagen" / "EXPECTATIONS.json"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as f:
        return json.load(f)


EXPECTATIONS = _expectations()
# "valid" files that are not sound recordings: refused on purpose, each with its reason
NOT_RECORDINGS = {
    "sample.mid": "MIDI",
    "sample.oggtheora": "video",
    "sample_bitrate.oggtheora": "video",
    "sample_length.oggtheora": "video",
}


def mutagen_length(path: Path) -> float | None:
    """The oracle: what mutagen itself says, reading the file by name."""
    audio = mutagen.File(path)
    return None if audio is None else getattr(audio.info, "length", None)


def refused(path: Path, filename: str) -> UnsupportedMedia:
    """Probe, expecting a refusal that names the file; any other exception fails the test."""
    with pytest.raises(UnsupportedMedia) as caught:
        probe_audio(path, filename)
    error = caught.value
    shown = display_filename(filename)
    assert shown in error.message
    assert error.details["filename"] == shown
    assert error.details["reason"]
    return error


def copy_as(tmp_path: Path, source: Path, name: str) -> Path:
    target = tmp_path / "upload"
    target.mkdir(exist_ok=True)
    target = target / "content.part"
    shutil.copyfile(source, target)
    return target


# -- the mutagen corpus -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTATIONS) or ["(corpus absent)"])
def test_mutagen_corpus(testdata_dir: Path, name: str) -> None:
    expected = EXPECTATIONS[name]
    path = CORPUS / name
    status = expected["status"]

    if status == "valid" and name in NOT_RECORDINGS:
        assert NOT_RECORDINGS[name] in refused(path, name).message
    elif status == "valid":
        length = mutagen_length(path)
        if not length:
            error = refused(path, name)
            assert "no audio" in error.message
        else:
            info = probe_audio(path, name)
            assert isinstance(info, AudioInfo)
            assert info.duration_ms == pytest.approx(length * 1000, rel=0.01, abs=1)
            assert info.format in FAMILIES
            assert info.mime.startswith("audio/")
    elif status == "corrupt_must_raise":
        refused(path, name)
    elif status == "damaged_but_readable":
        try:
            info = probe_audio(path, name)
        except UnsupportedMedia as error:
            assert name in error.message
        else:
            assert info.duration_ms > 0
    else:  # not audio at all
        refused(path, name)


def test_corpus_is_read_by_content_not_by_name(testdata_dir: Path, tmp_path: Path) -> None:
    """Every corpus file accepted under its own name is accepted under a name without an
    extension too, as the same format and duration. Musepack SV4/SV5 have no magic bytes:
    only their name tells, and that is allowed (the Musepack reader still checks them)."""
    name_only = {"sv4_header.mpc", "sv5_header.mpc"}
    for name in sorted(EXPECTATIONS):
        try:
            by_name = probe_audio(CORPUS / name, name)
        except UnsupportedMedia:
            continue
        if name in name_only:
            refused(CORPUS / name, "upload")
            continue
        by_content = probe_audio(CORPUS / name, "upload")
        assert (by_content.format, by_content.duration_ms) == (
            by_name.format,
            by_name.duration_ms,
        ), name


@pytest.mark.parametrize("name", ["id3v23_unsynch.id3", "issue_21.id3", "oldtag.apev2"])
def test_tag_only_files_are_refused(testdata_dir: Path, name: str) -> None:
    assert "only tags" in refused(CORPUS / name, name).message


def test_ooming_header_flac_is_refused_in_bounded_memory(testdata_dir: Path) -> None:
    """This header once made a reader allocate without bound (mutagen issue 112)."""
    tracemalloc.start()
    try:
        refused(CORPUS / "ooming-header.flac", "ooming-header.flac")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize(
    "error",
    [
        struct.error("unpack requires a buffer"),
        IndexError("index out of range"),
        ValueError("bad value"),
        OverflowError("too big"),
        EOFError(),
        MemoryError(),
        KeyError("x"),
        RecursionError(),
        mutagen.MutagenError("bad"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_mutagen_failure_becomes_unsupported_media(
    testdata_dir: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(probe.mutagen, "File", explode)
    refused(CORPUS / "silence-44-s.flac", "silence.flac")


# -- the Science History Institute's samples and the JFK speech -------------------------


@pytest.mark.parametrize(
    ("name", "seconds"),
    [
        ("5-seconds-of-silence.mp3", 5),
        ("5-seconds-of-silence.m4a", 5),
        ("5-seconds-of-silence.flac", 5),
        ("10-seconds-of-silence.mp3", 10),
        ("10-seconds-of-silence.m4a", 10),
        ("10-minutes-of-silence.mp3", 600),
        ("10-minutes-of-silence.m4a", 600),
    ],
)
def test_scihist_silences(testdata_dir: Path, name: str, seconds: int) -> None:
    info = probe_audio(testdata_dir / "scihist" / "audio" / name, name)
    assert info.duration_ms == pytest.approx(seconds * 1000, abs=250)
    assert info.browser_playable


def test_scihist_short_opus(testdata_dir: Path) -> None:
    info = probe_audio(testdata_dir / "scihist" / "audio" / "short_opus.oga", "short_opus.oga")
    assert (info.format, info.mime, info.channels) == ("opus", "audio/ogg", 1)
    assert info.duration_ms == pytest.approx(2560, abs=20)


def test_flac_without_total_samples_gets_its_duration_from_the_frames(testdata_dir: Path) -> None:
    """ffmpeg writing FLAC to a pipe leaves STREAMINFO's sample count at 0 ("unknown");
    decoding the file gives 1.02 s."""
    path = testdata_dir / "scihist" / "audio" / "bad_metadata.flac"
    info = probe_audio(path, "bad_metadata.flac")
    assert info.format == "flac"
    assert info.duration_ms == pytest.approx(1020, abs=30)
    assert info.tags["title"] == "malcom s 1117 2 1"
    assert info.tags["artist"] == "New Oral History Interviews"


@pytest.mark.parametrize(
    ("name", "reason"),
    [("zero_bytes.flac", "empty"), ("smallest_webm.webm", "video")],
)
def test_scihist_non_audio_is_refused(testdata_dir: Path, name: str, reason: str) -> None:
    assert reason in refused(testdata_dir / "scihist" / "audio" / name, name).message


def test_webm_disguised_as_mp3(testdata_dir: Path) -> None:
    path = testdata_dir / "scihist" / "audio" / "smallest_webm.webm"
    assert "WebM video" in refused(path, "interview.mp3").message


@pytest.mark.parametrize(
    ("name", "family", "playable"),
    [
        ("jfk.wav", "wav", True),
        ("jfk.mp3", "mp3", True),
        ("jfk.ogg", "ogg-vorbis", True),
        ("jfk.opus", "opus", True),
    ],
)
def test_jfk_speech(testdata_dir: Path, name: str, family: str, playable: bool) -> None:
    info = probe_audio(testdata_dir / "jfk-speech" / name, name)
    assert info.format == family
    assert info.duration_ms == pytest.approx(11_000, abs=100)
    assert info.channels == 1
    assert info.sample_rate == 16_000  # for Opus: the input rate recorded in its header
    assert info.browser_playable is playable


def test_jfk_formats_agree(testdata_dir: Path) -> None:
    durations = [
        probe_audio(testdata_dir / "jfk-speech" / name, name).duration_ms
        for name in ("jfk.wav", "jfk.mp3", "jfk.ogg", "jfk.opus")
    ]
    assert max(durations) - min(durations) <= 100


# -- names that lie, disguised content, hostile names ------------------------------------


def test_jpeg_renamed_mp3(testdata_dir: Path, tmp_path: Path) -> None:
    path = copy_as(tmp_path, CORPUS / "image.jpg", "cover.mp3")
    error = refused(path, "André.mp3")
    assert error.message == (
        "André.mp3 is not an audio file that this archive can read (it looks like a JPEG image)."
    )


@pytest.mark.parametrize("name", ["x.mp3.php", "x.exe", "notes.txt", "x.html", "a.jpg"])
def test_non_audio_extension_is_refused_even_with_real_audio(testdata_dir: Path, name: str) -> None:
    error = refused(CORPUS / "silence-44-s.mp3", name)
    assert "not an audio file extension" in error.message
    assert extension_of(name) in error.message


@pytest.mark.parametrize(
    ("source", "name", "claimed", "actual"),
    [
        ("silence-44-s.mp3", "x.flac", "FLAC", "MP3"),
        ("silence-44-s.flac", "x.mp3", "MP3", "FLAC"),
        ("silence-44-s.flac", "x.ogg", "Ogg audio", "FLAC"),
        ("silence-2s-PCM-16000-08-notags.wav", "x.m4a", "MPEG-4 audio", "WAV"),
        ("empty.ogg", "x.opus", "Opus", "Ogg Vorbis"),
    ],
)
def test_name_claiming_another_format_is_refused(
    testdata_dir: Path, source: str, name: str, claimed: str, actual: str
) -> None:
    error = refused(CORPUS / source, name)
    assert f"{name} claims {claimed} but its content is {actual}" in error.message


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("example.opus", "tape.ogg"),
        ("example.opus", "tape.oga"),
        ("empty.oggflac", "tape.ogg"),
        ("empty.spx", "tape.ogg"),
        ("has-tags.m4a", "tape.mp4"),
        ("has-tags.m4a", "tape.aac"),
        ("empty.aac", "tape.aac"),
        ("ep7.m4b", "ep7.M4B"),
        ("silence-2s-PCM-44100-16-ID3v23.wav", "master.BWF"),
        ("silence-44-s.flac", "tape 1.2"),  # "1.2" is not an extension: judged by content
        ("silence-44-s.flac", "Smith, J. interview"),
        ("silence-44-s.flac", "no-extension"),
    ],
)
def test_names_that_fit_the_content_are_accepted(
    testdata_dir: Path, source: str, name: str
) -> None:
    assert probe_audio(CORPUS / source, name).duration_ms > 0


def test_messages_never_show_paths(testdata_dir: Path) -> None:
    error = refused(CORPUS / "image.jpg", "../../etc/passwd.mp3")
    assert "passwd.mp3" in error.message
    assert "../" not in error.message and "etc" not in error.message
    assert str(CORPUS) not in refused(CORPUS / "too-short.mp3", "too-short.mp3").message


def test_very_long_name_is_shortened_in_messages(testdata_dir: Path) -> None:
    name = "é" * 300 + ".mp3"
    error = refused(CORPUS / "image.jpg", name)
    assert len(error.details["filename"]) == 255
    assert error.details["filename"].endswith(".mp3")


def test_arabic_name(testdata_dir: Path) -> None:
    name = "مقابلة.mp3"
    assert name in refused(CORPUS / "image.jpg", name).message
    assert probe_audio(CORPUS / "silence-44-s.mp3", name).format == "mp3"


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"<?php system($_GET['c']); ?>", "a PHP script"),
        (b"%PDF-1.4\n", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n" + bytes(32), "a PNG image"),
        (b"PK\x03\x04" + bytes(40), "a ZIP archive"),
        (b"MZ" + bytes(100), "a Windows program"),
        ("Hello, this is a transcript. Ünïcödé.\n".encode() * 10, "a text file"),
        (b"<!DOCTYPE html><html></html>", "an HTML page"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a WebP image"),
    ],
)
def test_what_refused_content_looks_like(tmp_path: Path, content: bytes, looks_like: str) -> None:
    path = tmp_path / "upload.part"
    path.write_bytes(content)
    assert f"it looks like {looks_like}" in refused(path, "interview.mp3").message


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    import random

    rng = random.Random(1957)
    path = tmp_path / "noise.part"
    for _ in range(20):
        path.write_bytes(rng.randbytes(rng.randrange(1, 20_000)))
        refused(path, "noise.mp3")
        refused(path, "noise")


def test_id3_tag_followed_by_zeros_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "upload.part"
    with path.open("wb") as f:
        f.write(b"ID3\x04\x00\x00\x00\x00\x00\x00")
        f.truncate(20 * 1024 * 1024)
    started = time.monotonic()
    assert "MP3 but is damaged" in refused(path, "tape.mp3").message
    assert time.monotonic() - started < 5


def test_large_wav_is_probed_without_reading_it(tmp_path: Path) -> None:
    """A 100-minute-style master: the probe reads headers only (sparse 200 MB file)."""
    rate, channels, width = 48_000, 2, 3
    data_size = 200 * 1024 * 1024 // (channels * width) * (channels * width)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * width, channels * width, 24)
    path = tmp_path / "master.part"
    with path.open("wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + data_size) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", data_size))
        f.truncate(f.tell() + data_size)
    tracemalloc.start()
    try:
        info = probe_audio(path, "master.wav")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected_ms = round(data_size / (rate * channels * width) * 1000)
    assert (info.format, info.codec, info.channels, info.sample_rate) == ("wav", "pcm", 2, rate)
    assert info.duration_ms == pytest.approx(expected_ms, abs=1)
    assert info.browser_playable
    assert peak < 10 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# -- what the archive records ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "family", "mime", "codec", "playable"),
    [
        ("has-tags.m4a", "m4a", "audio/mp4", "mp4a.40.2", True),
        ("alac.m4a", "m4a", "audio/mp4", "alac", False),
        ("empty.aac", "aac", "audio/aac", "aac", True),
        ("11k-1ch-2s-silence.aif", "aiff", "audio/aiff", None, False),
        ("silence-44-s.flac", "flac", "audio/flac", "flac", True),
        ("empty.oggflac", "ogg-flac", "audio/ogg", "flac", False),
        ("empty.spx", "speex", "audio/ogg", "speex", False),
        ("silence-1.wma", "wma", "audio/x-ms-wma", "Windows Media Audio 9.1", False),
        ("mac-399.ape", "ape", "audio/x-ape", None, False),
        ("silence-44-s.wv", "wavpack", "audio/x-wavpack", None, False),
        ("silence-44-s.ac3", "ac3", "audio/ac3", "ac-3", False),
        ("silence-44-s.eac3", "ac3", "audio/eac3", "ec-3", False),
        ("5644800-2ch-s01-silence.dsf", "dsf", "audio/x-dsf", None, False),
        ("silence-44-s-mpeg25.mp3", "mp3", "audio/mpeg", "mp3", True),
    ],
)
def test_format_mime_codec_playability(
    testdata_dir: Path, name: str, family: str, mime: str, codec: str | None, playable: bool
) -> None:
    info = probe_audio(CORPUS / name, name)
    assert (info.format, info.mime, info.codec, info.browser_playable) == (
        family,
        mime,
        codec,
        playable,
    )


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("silence-44-s-v1.mp3", {"title": "Silence", "artist": "piman", "date": "2004"}),
        ("silence-44-s.flac", {"title": "Silence", "album": "Quod Libet Test Data"}),
        ("has-tags.m4a", {"artist": "Test Artist"}),
        ("silence-1.wma", {"title": "test"}),
        ("silence-44-s.wv", {"title": "Silence", "artist": "piman; jzig", "date": "2004"}),
        ("with-id3.aif", {"title": "AIFF title"}),
        ("id3v22-test.mp3", {"comment": "Waterbug Records, www.anaismitchell.com"}),
    ],
)
def test_tags_are_normalised(testdata_dir: Path, name: str, tags: dict[str, str]) -> None:
    info = probe_audio(CORPUS / name, name)
    assert tags.items() <= info.tags.items()


def test_tags_are_bounded_text_without_pictures(testdata_dir: Path) -> None:
    for name in sorted(EXPECTATIONS):
        try:
            info = probe_audio(CORPUS / name, name)
        except UnsupportedMedia:
            continue
        assert len(info.tags) <= probe.MAX_TAGS
        for key, value in info.tags.items():
            assert isinstance(key, str) and isinstance(value, str)
            assert 0 < len(key) <= probe.MAX_TAG_KEY
            assert 0 < len(value) <= probe.MAX_TAG_VALUE
            assert "\x00" not in value
            assert not key.upper().startswith(("APIC", "COVR", "METADATA_BLOCK_PICTURE"))


def test_extension_map_is_consistent() -> None:
    for ext, families in ACCEPTED_EXTENSIONS.items():
        assert ext == ext.lower() and ext.startswith(".")
        assert families and families <= FAMILIES.keys()
        assert extension_of("x" + ext) == ext
    assert FAMILIES.keys() >= BROWSER_PLAYABLE
    assert set(probe._FAMILY_CLASS) == set(FAMILIES) == set(probe._CLASS_FAMILY.values())
    for ext in (".m4a", ".m4b", ".mp4", ".aac", ".ogg", ".oga", ".aif", ".aiff", ".aifc"):
        assert ext in ACCEPTED_EXTENSIONS
    for ext in (".wav", ".wave", ".opus", ".flac", ".mp3"):
        assert ext in ACCEPTED_EXTENSIONS


@pytest.mark.parametrize("length", [float("inf"), float("nan"), None, 0.0, -1.0, 0.0001])
def test_impossible_durations_are_refused(
    testdata_dir: Path, monkeypatch: pytest.MonkeyPatch, length: float | None
) -> None:
    real_file = mutagen.File

    def with_length(fileobj: Any) -> Any:
        audio = real_file(fileobj)
        audio.info.length = length
        return audio

    monkeypatch.setattr(probe.mutagen, "File", with_length)
    refused(CORPUS / "silence-44-s.mp3", "silence.mp3")
