"""Fixtures for the media package's unit tests: third-party test files, skipped when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    if not TESTDATA.is_dir():
        pytest.skip(f"third-party test files not found at {TESTDATA}")
    return TESTDATA
