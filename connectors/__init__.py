"""Built-in ragops connectors, one folder each (``connectors/<name>/__init__.py``).

A project's own connectors live in its ``connectors/`` folder with the same layout; see
``ragops.sources`` for the SDK and ``docs/connectors.md`` for a walk-through.
"""
