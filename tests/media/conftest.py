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


@pytest.fixture(scope="session")
def s3_server():
    """A local S3-compatible server (moto's, from PyPI: ``moto[server]`` in the test extra)
    on a free port, for the whole run: its endpoint URL."""
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed (pip install -e '.[test]')"
    )
    pytest.importorskip("boto3", reason="boto3 is not installed (pip install -e '.[test]')")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_server):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def s3_bucket(s3_client) -> str:
    """A new, empty bucket on the local S3 server."""
    import uuid

    name = f"oh-{uuid.uuid4().hex[:20]}"
    s3_client.create_bucket(Bucket=name)
    return name
