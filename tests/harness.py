"""The live-server harness is shared with the benchmarks and lives in bench/harness.py (bench never imports tests)."""

from bench.harness import *  # noqa: F401,F403
from bench.harness import Client, Inbox, LiveServer, copy_data, free_port, is_type, run_cli, server_env  # noqa: F401
