"""``python -m ragops.cli``."""

from ragops.cli import main

main()
