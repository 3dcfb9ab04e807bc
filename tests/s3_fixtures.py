"""pytest plugin: a real S3 API for the tests that need one, moto's standalone server.

    def test_something(s3_bucket):              # the studio's default storage is now that bucket
        default_storage.save("photos/a.jpg", ...)
        assert s3_bucket.keys() == ["photos/a.jpg"]

The server is started once per test process, on a free port, the first time a test asks for it,
and stopped when the process ends; each test gets a new, empty bucket. The storage is built by the
same helper as production's (studio.core.config.s3_storage): private objects, signed URLs.
"""

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config

from studio.core import config
from tests.helpers import free_port

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"
START_TIMEOUT = 30  # seconds for the server to listen


@dataclass
class S3Server:
    url: str

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.url, region_name=REGION, config=Config(signature_version="s3v4"), **CREDENTIALS
        )


@dataclass
class S3Bucket:
    name: str
    client: object

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


def start_moto(port: int) -> subprocess.Popen:
    """moto's standalone server on 127.0.0.1:port, listening when this returns."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.05)  # a process starting up: there is no event to wait on


@pytest.fixture(scope="session")
def s3_server():
    port = free_port()
    process = start_moto(port)
    try:
        yield S3Server(url=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def s3_bucket(s3_server, settings) -> S3Bucket:
    """A new private bucket, made the studio's default storage for this test."""
    client = s3_server.client()
    name = f"studio-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": config.s3_storage(
            bucket=name,
            endpoint_url=s3_server.url,
            region_name=REGION,
            expire=300,
            access_key=CREDENTIALS["aws_access_key_id"],
            secret_key=CREDENTIALS["aws_secret_access_key"],
            signature_version="s3v4",
        ),
    }
    return S3Bucket(name=name, client=client)
