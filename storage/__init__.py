"""Persistence for newsmon: SQLAlchemy 2 models, engine setup, migrations, repositories.

This package never imports ``monitor``: the application depends on storage, not the
other way round, so storage can be reused by scripts, benchmarks and migrations alone.
"""
