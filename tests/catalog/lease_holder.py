"""A process that holds an index lease, for the lease tests: ``python -m
tests.catalog.lease_holder CATALOG_URL LEASE_SECONDS``.

It takes the lease ``index:docs``, prints ``held``, then obeys lines on stdin: ``commit`` runs a
fenced transaction and prints ``committed`` or ``lost``; ``release`` releases and exits.
"""

from __future__ import annotations

import sys

from ragops.catalog import Catalog
from ragops.errors import LeaseLostError


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    catalog = Catalog(url, lease_seconds=seconds)
    lease = catalog.leases.acquire("index:docs", "sync")
    print("held", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "commit":
            try:
                with catalog.database.transaction() as connection:
                    lease.fence(connection)
                print("committed", flush=True)
            except LeaseLostError as exc:
                print(f"lost: {exc}", flush=True)
        elif command == "release":
            lease.release()
            print("released", flush=True)
            return


if __name__ == "__main__":
    main()
