"""The ``s3`` connector: objects of a bucket on any S3-compatible endpoint (AWS S3, MinIO,
Ceph, R2, …) through boto3.

The document id is the object key; the version marker is its ETag, so an unchanged object is
never downloaded. Metadata: ``key``, ``bucket``, ``last_modified``, ``url`` from
``url_template``, and with ``object_metadata: true`` the object's own user metadata (one HEAD
request per object at each listing). A listing that fails (a refused login, a missing bucket)
deletes nothing.

Credentials: boto3's usual chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile,
an instance role), or the environment variables that ``access_key_env`` and
``secret_key_env`` name. Never in ``ragops.yaml``, never printed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from ragops.errors import ConnectorError
from ragops.sources import SourceDocument, connector


@connector("s3")
def s3(
    bucket: str,
    prefix: str = "",
    include: list[str] = ["**/*"],  # noqa: B006  (pydantic copies defaults)
    exclude: list[str] = [],  # noqa: B006
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key_env: str | None = None,
    secret_key_env: str | None = None,
    object_metadata: bool = False,
    acl_metadata_key: str | None = None,
    url_template: str | None = None,
) -> Iterator[SourceDocument]:
    """Yield every object under ``prefix`` whose key (after the prefix) matches ``include``
    and not ``exclude`` (gitignore-style patterns).

    Args:
        bucket: the bucket.
        prefix: only keys starting with it (e.g. ``handbook/``).
        include: patterns of the keys to index (relative to ``prefix``), e.g. ``["**/*.pdf"]``.
        exclude: patterns to leave out.
        endpoint_url: an S3-compatible endpoint (MinIO, Ceph, R2); default: AWS.
        region: the region (default: boto3's configuration).
        access_key_env: the environment variable holding the access key id.
        secret_key_env: the environment variable holding the secret access key.
        object_metadata: add each object's user metadata (``x-amz-meta-*``) to its metadata.
        acl_metadata_key: a user-metadata key holding who may read the object
            (``group:eng,user:alice``); implies ``object_metadata``.
        url_template: a link for each object, with ``{bucket}`` and ``{key}``.
    """
    import pathspec
    from botocore.exceptions import BotoCoreError, ClientError

    client = _client(endpoint_url, region, access_key_env, secret_key_env)
    wanted = pathspec.PathSpec.from_lines("gitignore", include)
    unwanted = pathspec.PathSpec.from_lines("gitignore", exclude)
    where = f"s3://{bucket}/{prefix}" + (f" at {endpoint_url}" if endpoint_url else "")
    try:
        objects = [
            item
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for item in page.get("Contents", [])
        ]
        heads = {}
        if object_metadata or acl_metadata_key:
            heads = {
                item["Key"]: client.head_object(Bucket=bucket, Key=item["Key"]) for item in objects
            }
    except (ClientError, BotoCoreError) as exc:
        raise ConnectorError(f"s3 source {where}: listing failed: {_reason(exc)}") from None
    for item in objects:
        key: str = item["Key"]
        relative = key[len(prefix) :]
        if key.endswith("/") or not relative or not wanted.match_file(relative):
            continue
        if unwanted.match_file(relative):
            continue
        metadata: dict[str, Any] = {
            "key": key, "bucket": bucket, "last_modified": item["LastModified"].isoformat(),
        }  # fmt: skip
        acl: tuple[str, ...] = ()
        if key in heads:
            own = dict(heads[key].get("Metadata") or {})
            if acl_metadata_key:
                readers = own.pop(acl_metadata_key.lower(), "")
                acl = tuple(p.strip() for p in readers.split(",") if p.strip())
            metadata.update({f"s3_{name}": value for name, value in sorted(own.items())})
        if url_template:
            metadata["url"] = url_template.format(bucket=bucket, key=key)
        yield SourceDocument(
            doc_id=key,
            version=str(item["ETag"]).strip('"'),
            filename=PurePosixPath(key).name,
            load=_download(client, bucket, key, where),
            metadata=metadata,
            acl=acl,
            size=int(item["Size"]),
        )


def _client(
    endpoint_url: str | None, region: str | None, access_env: str | None, secret_env: str | None
) -> Any:
    import boto3
    from botocore.config import Config

    credentials = {}
    for option, name, argument in (
        ("access_key_env", access_env, "aws_access_key_id"),
        ("secret_key_env", secret_env, "aws_secret_access_key"),
    ):
        if name is None:
            continue
        if name not in os.environ:
            raise ConnectorError(
                f"s3 source: {option} names the environment variable {name}, which is not set; "
                "export it where ragops runs"
            )
        credentials[argument] = os.environ[name]
    return boto3.client(
        "s3", endpoint_url=endpoint_url, region_name=region,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10),
        **credentials,
    )  # fmt: skip


def _download(client: Any, bucket: str, key: str, where: str) -> Any:
    def load() -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        except (ClientError, BotoCoreError) as exc:
            raise ConnectorError(
                f"s3 source {where}: reading {key!r} failed: {_reason(exc)}"
            ) from None

    return load


def _reason(exc: Exception) -> str:
    error = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    if error:
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return f"{exc.__class__.__name__}: {exc}"
