"""Principals and document permissions.

A principal is ``<kind>:<name>`` (``user:alice``, ``group:eng``). Every chunk's payload holds
its document's effective ACL, a keyword-indexed list of principals: the connector's own
``acl``, else the source's ``acl`` in ``ragops.yaml``; a source declared ``public: true`` adds
:data:`PUBLIC`, which every caller matches. A search on behalf of principals only sees chunks
whose ACL names one of them or :data:`PUBLIC`, so a document with no ACL from a source that is
not public is visible to no one but an unrestricted (admin) reader: permissions fail closed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "PRINCIPAL_PATTERN",
    "PUBLIC",
    "check_principals",
    "effective_acl",
    "principal_problem",
    "readable_by",
]

#: A principal: ``<kind>:<name>``, e.g. ``user:alice``, ``group:eng``.
PRINCIPAL_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}:[^\s:][^\s]{0,199}$")
#: The ACL entry of a document every caller may read (sources with ``public: true``).
PUBLIC = "*"


def principal_problem(principal: str) -> str | None:
    """None when ``principal`` is well formed; else what is wrong and the fix."""
    if isinstance(principal, str) and PRINCIPAL_PATTERN.match(principal):
        return None
    return (
        f"principal {principal!r} is not valid: write <kind>:<name>, such as user:alice or "
        "group:eng (no spaces)"
    )


def check_principals(values: Sequence[str] | None) -> Sequence[str] | None:
    """``values`` unchanged when every principal is well formed; else ValueError naming the
    first bad one and the fix (for pydantic validators and function arguments)."""
    for principal in values or ():
        problem = principal_problem(principal)
        if problem is not None:
            raise ValueError(problem)
    return values


def effective_acl(
    document_acl: Sequence[str], source_acl: Sequence[str], public: bool
) -> tuple[str, ...]:
    """The ACL stored with a document's chunks: its own, else its source's, plus
    :data:`PUBLIC` when the source is public (sorted, without repeats)."""
    principals = set(document_acl or source_acl)
    if public:
        principals.add(PUBLIC)
    return tuple(sorted(principals))


def readable_by(principals: Sequence[str]) -> list[str]:
    """The ACL entries a caller with ``principals`` may read: theirs and :data:`PUBLIC`."""
    return sorted({*principals, PUBLIC})
