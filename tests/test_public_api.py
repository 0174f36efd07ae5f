"""The public surface of `import ragops` is small and deliberate: changing it is a decision."""

from __future__ import annotations

import subprocess
import sys

import ragops


def test_exported_members() -> None:
    assert sorted(ragops.__all__) == sorted(
        [
            "CatalogError",
            "ConfigError",
            "ConnectorError",
            "EmbeddingError",
            "EvalError",
            "Hit",
            "IndexNotFoundError",
            "ParseError",
            "Project",
            "ProjectConfig",
            "PromotionError",
            "RagopsError",
            "Retriever",
            "SourceDocument",
            "StoreError",
            "StoreLockedError",
            "IndexLockedError",
            "__version__",
            "connector",
            "load_config",
        ]
    )
    for name in ragops.__all__:
        assert hasattr(ragops, name), name


def test_importing_ragops_loads_no_model_or_parser_stack() -> None:
    code = (
        "import sys, ragops\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'unstructured', 'ragas', 'dagster')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
