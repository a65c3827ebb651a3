"""Where generated files go: a local directory or an S3 prefix.

S3 goes through boto3, which takes its endpoint from configuration (``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL``), so the same command writes to the local S3 server and to AWS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse


class Sink(Protocol):
    location: str

    def put(self, name: str, body: bytes) -> None: ...


class DirectorySink:
    def __init__(self, path: str) -> None:
        self.root = Path(path)
        self.root.mkdir(parents=True, exist_ok=True)
        self.location = str(self.root)

    def put(self, name: str, body: bytes) -> None:
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"refusing to write outside the output directory: {name!r}")
        (self.root / name).write_bytes(body)


class S3Sink:
    def __init__(self, url: str, client: Any | None = None) -> None:
        parsed = urlparse(url)
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.location = url
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or None)
        self.client = client

    def put(self, name: str, body: bytes) -> None:
        key = f"{self.prefix}/{name}" if self.prefix else name
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)


def open_sink(target: str) -> Sink:
    return S3Sink(target) if target.startswith("s3://") else DirectorySink(target)
