"""The PyAV adapter (``media/audio.py``) on real files: the JFK recording in four formats,
mutagen's ~100 files in 25 formats (valid, damaged and corrupt), and encoding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oralhist.errors import UnsupportedMedia
from oralhist.media import audio
from tests.conftest import testdata as shared

JFK_SAMPLES = 176_000  # 11.0 s at 16 kHz


@pytest.mark.parametrize("name", ["jfk.wav", "jfk.mp3", "jfk.ogg", "jfk.opus"])
def test_the_jfk_speech_decodes_to_the_same_length_in_every_format(name):
    path = shared("jfk-speech", name)
    info = audio.probe(path)
    assert abs(info.duration_ms - 11_000) <= 100
    assert info.channels == 1
    assert audio.probe(path, exact=True).duration_ms == 11_000
    samples = audio.decode_all(path)
    assert samples.dtype == np.int16 and samples.ndim == 1
    assert len(samples) == JFK_SAMPLES
    assert np.abs(samples.astype(np.int32)).max() > 1000  # speech, not silence


def test_the_wav_decodes_sample_exactly_and_slices_at_the_right_place():
    path = shared("jfk-speech", "jfk.wav")
    whole = audio.decode_all(path)
    part = audio.decode_all(path, start_ms=5_000, end_ms=6_250)
    assert np.array_equal(part, whole[80_000:100_000])
    tail = audio.decode_all(path, start_ms=10_500)
    assert np.array_equal(tail, whole[168_000:])


def test_a_compressed_file_slices_where_the_whole_decode_has_it():
    path = shared("jfk-speech", "jfk.mp3")
    whole = audio.decode_all(path).astype(np.float64)
    part = audio.decode_all(path, start_ms=4_000, end_ms=5_000).astype(np.float64)
    assert len(part) == 16_000
    expected = whole[64_000:80_000]
    correlation = np.corrcoef(part, expected)[0, 1]
    assert correlation > 0.99


def test_decoding_comes_in_bounded_blocks():
    path = shared("jfk-speech", "jfk.wav")
    blocks = list(audio.decode(path, block_ms=1_000))
    assert [len(b) for b in blocks] == [16_000] * 11
    stereo = list(audio.decode(path, channels=2, rate=8_000, block_ms=4_000))
    assert [b.shape for b in stereo] == [(32_000, 2), (32_000, 2), (24_000, 2)]


def test_a_file_object_decodes_like_a_path():
    path = shared("jfk-speech", "jfk.ogg")
    with open(path, "rb") as handle:
        from_file = audio.decode_all(handle, rate=8_000)
    assert np.array_equal(from_file, audio.decode_all(path, rate=8_000))


def _expectations():
    path = shared("mutagen", "EXPECTATIONS.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_mutagen_file_decodes_or_is_refused_by_name_and_reason():
    """~100 files in 25 formats: each either decodes to int16 samples or raises the typed
    error naming the file and the problem; never anything else, never a hang."""
    decoded, refused = [], []
    for name, expected in sorted(_expectations().items()):
        path = shared("mutagen", "data", name)
        try:
            info = audio.probe(path)
            total = sum(len(block) for block in audio.decode(path, block_ms=2_000))
        except audio.UndecodableAudio as exc:
            assert isinstance(exc, UnsupportedMedia)
            assert exc.details["filename"] == name
            assert exc.message.startswith(f"{name}: ")
            assert exc.reason and "Traceback" not in exc.reason
            refused.append(name)
            continue
        assert info.duration_ms > 0 and info.sample_rate > 0, name
        assert total >= 0
        decoded.append(name)
        assert expected["status"] != "corrupt_must_raise", name
    assert len(decoded) > 60  # WMA, APE, DSD, TTA, TAK, AC-3, Musepack, WavPack among them
    for name in ("issue_29.wma", "mac-399.ape", "5644800-2ch-s01-silence.dsf", "empty.tta"):
        assert name in decoded
    for name in ("emptyfile.mp3", "too-short.mp3", "image.jpg", "ooming-header.flac"):
        assert name in refused


def test_formats_browsers_cannot_play_decode_to_the_right_length():
    for name, seconds in (
        ("silence-1.wma", 3.712),
        ("mac-399.ape", 3.684),
        ("silence-44-s.tak", 3.684),
        ("silence-44-s.wv", 3.684),
    ):
        samples = audio.decode_all(shared("mutagen", "data", name), rate=1_000)
        assert abs(len(samples) - seconds * 1_000) <= 2, name


def test_an_empty_file_and_a_picture_are_refused_plainly():
    with pytest.raises(audio.UndecodableAudio, match=r"^emptyfile\.mp3: the file is empty"):
        audio.probe(shared("mutagen", "data", "emptyfile.mp3"))
    with pytest.raises(audio.UndecodableAudio, match="no audio stream"):
        audio.probe(shared("mutagen", "data", "image.jpg"))
    with pytest.raises(audio.UndecodableAudio, match=r"^zero_bytes\.flac: "):
        list(audio.decode(shared("scihist", "audio", "zero_bytes.flac")))


@pytest.mark.parametrize(
    ("container", "codec", "rate"),
    [("mp3", "libmp3lame", 44_100), ("mp4", "aac", 48_000), ("ogg", "libopus", 48_000)],
)
def test_encoding_keeps_the_duration(tmp_path, container, codec, rate):
    out = tmp_path / f"copy.{container}"
    written = audio.encode(
        shared("jfk-speech", "jfk.wav"),
        out,
        container_format=container,
        codec=codec,
        rate=rate,
        bit_rate=64_000,
    )
    assert written == 11 * rate
    info = audio.probe(out)
    assert info.sample_rate == rate and info.channels == 1
    if container != "ogg":  # FFmpeg's Ogg header duration counts Opus's pre-skip
        assert info.duration_ms == 11_000  # what a player reads from the header
    if container != "mp4":  # FFmpeg decodes an MP4's end padding (players trim it)
        assert audio.probe(out, exact=True).duration_ms == 11_000


@pytest.mark.parametrize("rate", [24_000, 44_100])
@pytest.mark.parametrize("into_last_frame", [0, 5, 46, 47, 300])
def test_an_mp3_keeps_the_length_to_the_sample_wherever_it_ends_in_a_frame(
    tmp_path, rate, into_last_frame
):
    """FFmpeg's LAME wrapper leaves the end padding out of the LAME tag when the input ends
    in the first 47 samples of a frame; the adapter writes it, so a player (FFmpeg reads
    the tag as browsers do) trims the copy to the master's length whatever that is."""
    import wave

    per_frame = 1152 if rate == 44_100 else 576
    samples = 40 * per_frame + into_last_frame
    source = tmp_path / "master.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        tone = 8000 * np.sin(2 * np.pi * 440 * np.arange(samples) / rate)
        out.writeframes(tone.astype("<i2").tobytes())
    copy = tmp_path / "copy.mp3"
    written = audio.encode(
        source, copy, container_format="mp3", codec="libmp3lame", rate=rate, bit_rate=64_000
    )
    assert written == samples
    assert len(audio.decode_all(copy, rate=rate)) == samples
    assert audio.probe(copy).duration_ms == round(samples * 1000 / rate)


def test_encoding_applies_a_transform_per_block(tmp_path):
    """What the redacted copy does: silence a stretch while encoding."""
    source = shared("jfk-speech", "jfk.wav")

    def silence_2_to_3_s(block, first):
        block = block.copy()
        lo, hi = max(0, 32_000 - first), max(0, min(len(block), 48_000 - first))
        block[lo:hi] = 0
        return block

    out = tmp_path / "silenced.wav"
    audio.encode(
        source,
        out,
        container_format="wav",
        codec="pcm_s16le",
        rate=16_000,
        bit_rate=None,
        transform=silence_2_to_3_s,
    )
    samples = audio.decode_all(out)
    original = audio.decode_all(source)
    assert not samples[32_000:48_000].any()
    assert np.array_equal(samples[:32_000], original[:32_000])
    assert np.array_equal(samples[48_000:], original[48_000:])


def _speechlike_wav(path, seconds: int, rate: int = 48_000) -> np.ndarray:
    """A speech-like master (a gliding voice under a syllable envelope, breaths, a noise
    floor), 16-bit stereo; returns its samples at 24 kHz mono as the encoder gets them."""
    import wave

    t = np.arange(rate * seconds) / rate
    pitch = 110 + 40 * np.sin(2 * np.pi * 0.05 * t)
    voice = np.sin(2 * np.pi * np.cumsum(pitch) / rate)
    voice += 0.3 * np.sin(4 * np.pi * np.cumsum(pitch) / rate)
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    pauses = (np.sin(2 * np.pi * t / 7) > -0.6).astype(float)
    noise = 0.01 * np.random.default_rng(1957).standard_normal(len(t))
    signal = (0.4 * voice * syllables * pauses + noise) * 32000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.repeat(signal.astype("<i2"), 2).tobytes())
    return audio.decode_all(path, rate=24_000).astype(np.float64)


@pytest.fixture
def split_short(monkeypatch):
    """Split masters of a few tens of seconds (the default threshold is 10 minutes)."""
    monkeypatch.setattr(audio, "SPLIT_MIN_MS", 0)
    monkeypatch.setattr(audio, "SPLIT_WARMUP_MS", 8_000)
    monkeypatch.setattr(audio, "SPLIT_SETTLE_MS", 1_000)


def _mp3(source, dest, processes: int, silence=None, progress=None) -> int:
    return audio.encode_mp3(
        source,
        dest,
        rate=24_000,
        bit_rate=64_000,
        codec_options={"compression_level": "7"},
        silence=silence,
        processes=processes,
        progress=progress,
    )


def test_two_processes_make_an_mp3_joined_without_a_gap_or_a_click(tmp_path, split_short):
    """The halves are joined where the second's reservoir share fits the first's unused
    bytes: the file decodes to exactly the master's length, and near the join it is as
    close to the master as the one-process file is (a gap, a repeated stretch or a
    corrupt frame would show as a burst of error)."""
    master = _speechlike_wav(tmp_path / "master.wav", 40)
    one, two = tmp_path / "one.mp3", tmp_path / "two.mp3"
    assert _mp3(tmp_path / "master.wav", one, 1) == len(master)
    reached: list[int] = []
    assert _mp3(tmp_path / "master.wav", two, 2, progress=reached.append) == len(master)
    assert two.read_bytes() != one.read_bytes()  # joined, not made by one process
    assert reached == sorted(reached) and reached[-1] == 40_000  # the job's progress
    assert audio.probe(two).duration_ms == 40_000  # the LAME tag, as players read it
    single = audio.decode_all(one, rate=24_000).astype(np.float64)
    joined = audio.decode_all(two, rate=24_000).astype(np.float64)
    assert len(joined) == len(single) == len(master)
    window = 1200  # 50 ms
    usable = len(master) // window * window

    def error(decoded):
        blocks = (decoded[:usable] - master[:usable]).reshape(-1, window)
        return np.sqrt(np.mean(blocks**2, axis=1))

    one_error, two_error = error(single), error(joined)
    changed = np.nonzero(joined != single)[0]
    assert len(changed)  # the join is somewhere in the middle, as planned
    assert 12 * 24_000 < changed[0] < 28 * 24_000
    assert two_error.max() <= 1.2 * one_error.max()
    assert np.abs(joined - master).max() <= 1.2 * np.abs(single - master).max()
    near = slice(changed[0] // window - 20, changed[0] // window + 60)
    assert two_error[near].max() <= 1.2 * one_error[near].max() + 20


def test_two_processes_silence_the_same_ranges(tmp_path, split_short):
    """A redacted copy made by two processes: each silences its own share of the ranges,
    one of them across the join."""
    master = _speechlike_wav(tmp_path / "master.wav", 40)
    rate = 24_000
    spans = [(5 * rate, 6 * rate), (15 * rate, 25 * rate), (33 * rate, 34 * rate)]
    out = tmp_path / "silenced.mp3"
    assert _mp3(tmp_path / "master.wav", out, 2, silence=(spans, 0.0)) == len(master)
    decoded = audio.decode_all(out, rate=rate).astype(np.float64)
    assert len(decoded) == len(master)
    edge = rate // 20
    for a, b in spans:
        inside = decoded[a + edge : b - edge]
        assert np.sqrt(np.mean(inside**2)) < 2.0, (a, b)
        assert np.sqrt(np.mean(master[a:b] ** 2)) > 100  # not silent in the master
    outside = slice(8 * rate, 13 * rate)
    assert np.sqrt(np.mean((decoded[outside] - master[outside]) ** 2)) < 0.2 * np.sqrt(
        np.mean(master[outside] ** 2)
    )


def test_the_lame_delay_written_for_a_joined_file_is_lames(tmp_path):
    """``encode_mp3`` writes LAME's encoder delay into a file it muxes from frames: the
    value a one-process encode's tag carries."""
    out = tmp_path / "one.mp3"
    _mp3(shared("jfk-speech", "jfk.wav"), out, 1)
    data = out.read_bytes()
    start = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    frame = data[start : start + 400]
    at = frame.find(b"Info")
    assert int.from_bytes(frame[at + 141 : at + 144], "big") >> 12 == audio.LAME_ENCODER_DELAY


def test_without_a_place_to_join_one_process_makes_the_file(tmp_path, split_short, monkeypatch):
    """No frame of the overlap fits (here: the overlap is shorter than the settling time):
    the file is made by one process instead, the same bytes as ever."""
    monkeypatch.setattr(audio, "SPLIT_SETTLE_MS", 9_000)
    master = _speechlike_wav(tmp_path / "master.wav", 30)
    one, two = tmp_path / "one.mp3", tmp_path / "two.mp3"
    _mp3(tmp_path / "master.wav", one, 1)
    assert _mp3(tmp_path / "master.wav", two, 2) == len(master)
    assert two.read_bytes() == one.read_bytes()
