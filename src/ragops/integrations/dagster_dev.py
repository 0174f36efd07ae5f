"""``python -m ragops.integrations.dagster_dev ARGS``: Dagster's CLI (``dagster ARGS``) without
the warning that ``dagster dev`` is superseded by ``dg dev``.

``dg dev`` needs a ``dg`` project layout (and the dagster-dg-cli package); ragops's code
location is a plain module, which ``dagster dev -m dagster_defs`` serves as well, so
``ragops ui`` keeps it and silences only that notice.
"""

from __future__ import annotations

import runpy
import sys
import warnings


def main() -> None:
    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.SupersessionWarning, message=".*dg dev.*")
    sys.argv[0] = "dagster"
    runpy.run_module("dagster", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
