"""Who may do what: API keys that map a caller to principals and a scope.

A key is ``rgk_<key id>_<secret>``. The catalog keeps the key id (public: it names the key in
lists, logs and the audit log) and the sha256 of the secret, never the secret; the whole key
is shown once, when it is created. Each key acts as its principals (``user:alice``,
``group:eng``), which decide the documents it may read, and has one scope: ``read`` (search,
ask, list), ``write`` (also sync, eval, promote, rollback) or ``admin`` (also keys, and every
document whatever its ACL).
"""

from __future__ import annotations

from ragops.access.keys import (
    SCOPES,
    NewKey,
    Scope,
    authenticate,
    create_key,
    list_keys,
    require_scope,
    revoke_key,
)
from ragops.access.principals import PUBLIC, effective_acl, principal_problem, readable_by

__all__ = [
    "PUBLIC",
    "SCOPES",
    "NewKey",
    "Scope",
    "authenticate",
    "create_key",
    "effective_acl",
    "list_keys",
    "principal_problem",
    "readable_by",
    "require_scope",
    "revoke_key",
]
