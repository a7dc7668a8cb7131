"""Own PostgreSQL and Redis servers, shared with the benchmarks: bench/services.py."""

from bench.services import OwnPostgres, OwnRedis  # noqa: F401
