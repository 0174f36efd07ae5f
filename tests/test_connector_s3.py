"""The ``s3`` connector against moto's S3 server on loopback (a real HTTP endpoint): puts,
overwrites and deletes between syncs, user metadata and ACLs carried, credentials from the
environment variables the config names, and a failing listing deleting nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.errors import ConnectorError
from ragops.project import Project
from tests.serve.conftest import free_port


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("RAGOPS_S3_KEY", "testing-key")
    monkeypatch.setenv("RAGOPS_S3_SECRET", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def bucket_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing-key",
        aws_secret_access_key="testing-secret", region_name="us-east-1",
    )  # fmt: skip


def write_config(root: Path, endpoint: str, bucket: str = "handbook") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "ragops.yaml"
    config.write_text(
        "project: s3source\n"
        "sources:\n"
        "  bucket:\n"
        "    connector: s3\n"
        f"    bucket: {bucket}\n"
        "    prefix: pages/\n"
        "    include: ['**/*.md']\n"
        f"    endpoint_url: '{endpoint}'\n"
        "    access_key_env: RAGOPS_S3_KEY\n"
        "    secret_key_env: RAGOPS_S3_SECRET\n"
        "    acl_metadata_key: readers\n"
        "    url_template: 'https://files.example.org/{bucket}/{key}'\n"
        "indexes:\n"
        "  docs: {sources: [bucket], chunker: {kind: markdown}}\n"
    )
    return config


def put(s3, key: str, text: str, **metadata: str) -> None:  # type: ignore[no-untyped-def]
    s3.put_object(Bucket="handbook", Key=key, Body=text.encode(), Metadata=metadata)


def test_puts_overwrites_and_deletes_reach_the_index(endpoint: str, tmp_path: Path) -> None:
    s3 = bucket_client(endpoint)
    s3.create_bucket(Bucket="handbook")
    put(
        s3,
        "pages/leave.md",
        "# Leave\n\n25 days of paid leave.\n",
        readers="group:staff",
        team="hr",
    )
    put(s3, "pages/badges.md", "# Badges\n\nBadges at reception.\n", readers="group:staff")
    put(s3, "pages/logo.png", "not text")  # not included
    put(s3, "elsewhere/other.md", "# Other\n\nOutside the prefix.\n")
    config = write_config(tmp_path / "p", endpoint)
    with Project.open(config) as project:
        [first] = ragops.sync(project)
        assert (first.documents.new, first.chunks) == (2, 2)
        ragops.promote(project, "docs", 1)
        [hit] = Retriever(project, "docs", principals=["group:staff"]).search("paid leave", k=1)
        assert hit.doc_id == "pages/leave.md" and hit.metadata["s3_team"] == "hr"
        assert hit.metadata["url"] == "https://files.example.org/handbook/pages/leave.md"
        assert Retriever(project, "docs", principals=["group:eng"]).search("leave", k=5) == []

        put(s3, "pages/leave.md", "# Leave\n\n28 days of paid leave.\n", readers="group:staff")
        put(s3, "pages/parking.md", "# Parking\n\nNorth garage.\n", readers="group:eng")
        s3.delete_object(Bucket="handbook", Key="pages/badges.md")
        [second] = ragops.sync(project)
        d = second.documents
        assert (d.new, d.changed, d.deleted, second.embedded) == (1, 1, 1, 2)
        ragops.promote(project, "docs", 2)
        [hit] = Retriever(project, "docs", principals=["group:eng"]).search("garage", k=5)
        assert hit.doc_id == "pages/parking.md"

    with Project.open(write_config(tmp_path / "p", endpoint, "handbok")) as project:
        with pytest.raises(ConnectorError, match="listing failed: NoSuchBucket"):
            ragops.sync(project)
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1, 2]


def test_an_unset_credentials_variable_is_named(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAGOPS_S3_SECRET")
    with (
        Project.open(write_config(tmp_path / "p", endpoint)) as project,
        pytest.raises(ConnectorError, match="RAGOPS_S3_SECRET, which is not set"),
    ):
        ragops.sync(project)


def test_bad_credentials_fail_the_listing_and_delete_nothing(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto authenticates requests once INITIAL_NO_AUTH_ACTION_COUNT is reached (0: from now
    on), and knows no IAM key: the same answer S3 gives a wrong or revoked key."""
    from moto import settings

    s3 = bucket_client(endpoint)
    s3.create_bucket(Bucket="locked")  # its own: moto keeps buckets across servers in a process
    s3.put_object(
        Bucket="locked", Key="pages/leave.md", Body=b"# Leave\n\n25 days of paid leave.\n"
    )
    config = write_config(tmp_path / "p", endpoint, bucket="locked")
    with Project.open(config) as project:
        [first] = ragops.sync(project)
        assert first.documents.new == 1
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setenv("RAGOPS_S3_SECRET", "a-wrong-secret-value")
    with Project.open(config) as project:
        with pytest.raises(ConnectorError, match="listing failed: InvalidAccessKeyId") as failure:
            ragops.sync(project)
        assert "a-wrong-secret-value" not in str(failure.value)
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]
        [hit] = Retriever(project, "docs", version=1).search("paid leave", k=1)
        assert hit.doc_id == "pages/leave.md"  # still indexed
