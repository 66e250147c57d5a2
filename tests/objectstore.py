"""A local S3-compatible server (moto) on 127.0.0.1, for the store's tests on object storage.

Started once per test run by the `s3` fixture (tests/conftest.py); every test that uses it gets
a bucket of its own. The store reaches it the standard way, through the environment:
AWS_ENDPOINT_URL, AWS_ALLOW_HTTP, a key pair and a region (delta-rs and s3fs both read them).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

ENDPOINT_ENV = {"AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "flowlogs-test",
                "AWS_SECRET_ACCESS_KEY": "flowlogs-test", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto's server in a child process, and the environment that points clients at it."""

    def __init__(self):
        self.port = _free_port()
        self.env = {**ENDPOINT_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}"}
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the local S3 server (moto) did not start") from None
                time.sleep(0.1)

    def bucket(self) -> str:
        """A new empty bucket; returns the data location in it (s3://bucket/logs)."""
        return new_bucket()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def new_bucket() -> str:
    """A new empty bucket on the server the environment points at; returns a data location in it."""
    import boto3

    name = f"flowlogs-{uuid.uuid4().hex[:16]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return f"s3://{name}/logs"


def point_environment_at(server: S3Server) -> dict[str, str | None]:
    """Set the environment for the server (this process and its children); returns what it replaced."""
    previous = {k: os.environ.get(k) for k in server.env}
    os.environ.update(server.env)
    return previous


def restore_environment(previous: dict[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
