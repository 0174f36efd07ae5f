"""The public surface of `import ragops` is small and deliberate: changing it is a decision.
Importing ragops changes nothing in the host process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import ragops
from ragops import errors


def test_exported_members() -> None:
    assert sorted(ragops.__all__) == sorted(
        [
            "AccessError",
            "AuthenticationError",
            "CatalogError",
            "ConfigError",
            "ConnectorError",
            "EmbeddingError",
            "EvalError",
            "EvalRun",
            "Hit",
            "Incremental",
            "IndexLockedError",
            "IndexNotFoundError",
            "LLMError",
            "LeaseLostError",
            "ParseError",
            "ParserSetupError",
            "PermissionDeniedError",
            "Project",
            "ProjectConfig",
            "Promotion",
            "PromotionError",
            "PromptRenderError",
            "RagopsError",
            "Retriever",
            "RunSummary",
            "SourceDocument",
            "SourceState",
            "StoreError",
            "StoreLockedError",
            "Unchanged",
            "__version__",
            "connector",
            "evaluate",
            "load_config",
            "promote",
            "rollback",
            "run",
            "sync",
        ]
    )
    for name in ragops.__all__:
        assert hasattr(ragops, name), name


def test_every_error_a_user_may_catch_is_exported() -> None:
    for name in errors.__all__:
        exported = getattr(ragops, name, None)
        assert exported is getattr(errors, name), f"ragops.{name} is not exported"
        assert issubclass(exported, ragops.RagopsError)


def test_importing_ragops_changes_nothing_and_loads_no_model_or_parser_stack() -> None:
    code = (
        "import json, logging, os, sys, warnings\n"
        "env = dict(os.environ)\n"
        "handlers = list(logging.getLogger().handlers)\n"
        "filters = list(warnings.filters)\n"
        "import ragops, ragops.pipeline, ragops.cli\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'unstructured', 'ragas',"
        " 'dagster', 'llama_index', 'openai') if m in sys.modules]\n"
        "keys = set(env) | set(os.environ)\n"
        "changed = sorted(k for k in keys if env.get(k) != os.environ.get(k))\n"
        "print(json.dumps({'heavy': heavy, 'env': changed,"
        " 'logging': list(logging.getLogger().handlers) != handlers,"
        " 'warnings': list(warnings.filters) != filters}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout)
    assert report == {"heavy": [], "env": [], "logging": False, "warnings": False}


def test_every_package_ships_in_the_distribution() -> None:
    """pyproject.toml lists its packages by hand: a new package left off works in an editable
    install and is missing from the wheel."""
    import tomllib

    repo = Path(__file__).resolve().parents[1]
    listed = set(
        tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(repo / "src").parts)
        for init in (repo / "src" / "ragops").rglob("__init__.py")
        if "templates" not in init.parts  # a project template, shipped as package data
    }
    found |= {
        "ragops_connectors"
        + "".join(f".{p}" for p in init.parent.relative_to(repo / "connectors").parts)
        for init in (repo / "connectors").rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages"
