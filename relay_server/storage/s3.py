"""S3Storage: objects in an S3 (or S3-compatible) bucket, uploaded by presigned POST.

Clients POST straight to the bucket with the fields of boto3's
``generate_presigned_post`` (the same conditions LocalStorage signs: the
exact key, the content type and a content-length-range of exactly the
declared size); downloads use ``generate_presigned_url``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from relay_server.storage.base import PresignedPost
from relay_server.storage.errors import ObjectNotFound


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3Storage:
    """A bucket reached through boto3 (credentials from the usual AWS sources)."""

    name = "s3"

    def __init__(self, bucket: str, upload_ttl_s: int, max_upload_bytes: int,
                 endpoint_url: str | None = None, client: Any = None) -> None:
        if not bucket:
            raise ValueError("RELAY_S3_BUCKET must name the bucket for RELAY_STORAGE=s3")
        if client is None:
            import boto3
            from botocore.config import Config

            # SigV4 everywhere (newer AWS regions accept nothing else); path-style
            # addressing for S3-compatible stores (MinIO, Ceph, ...) behind an endpoint URL.
            config = Config(signature_version="s3v4",
                            s3={"addressing_style": "path" if endpoint_url else "auto"})
            client = boto3.client("s3", endpoint_url=endpoint_url, config=config)
        self.client = client
        self.bucket = bucket
        self.upload_ttl_s = upload_ttl_s
        self.max_upload_bytes = max_upload_bytes

    def presign_upload(self, key: str, content_type: str, file_size: int,
                       base_url: str) -> PresignedPost:
        size = min(file_size, self.max_upload_bytes)
        post = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=self.upload_ttl_s,
        )
        return PresignedPost(url=post["url"], fields=dict(post["fields"]), key=key,
                             expires_in=self.upload_ttl_s)

    def download_url(self, key: str, expires_in: int, base_url: str) -> str:
        return cast(str, self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in))

    def _head(self, key: str) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], self.client.head_object(Bucket=self.bucket, Key=key))
        except Exception as exc:
            if _is_missing(exc):
                raise ObjectNotFound(key) from exc
            raise

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def open(self, key: str) -> BinaryIO:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except Exception as exc:
            if _is_missing(exc):
                raise ObjectNotFound(key) from exc
            raise
        return cast(BinaryIO, body)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        suffix = os.path.splitext(key)[1]
        fd, name = tempfile.mkstemp(prefix="relay-s3-", suffix=suffix)
        os.close(fd)
        path = Path(name)
        try:
            try:
                self.client.download_file(self.bucket, key, str(path))
            except Exception as exc:
                if _is_missing(exc):
                    raise ObjectNotFound(key) from exc
                raise
            yield path
        finally:
            path.unlink(missing_ok=True)

    def put_file(self, key: str, source: Path, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else None
        self.client.upload_file(str(source), self.bucket, key, ExtraArgs=extra)

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        keys = list(self.list_keys(prefix))
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch,
                                                                    "Quiet": True})
        return len(keys)
