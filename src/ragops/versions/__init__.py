"""Index versions: the spec fingerprint, sync (plan, prepare, write, commit), staged changes,
retention, the chunk store and export/restore.

Import the modules you need (``ragops.versions.sync`` ...); this package imports nothing heavy.
"""
