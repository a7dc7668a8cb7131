"""`parley tokens ...` and `parley webhooks ...` against a real SQLite database, as an operator runs them."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import run_cli, server_env


def test_tokens_and_webhooks_from_the_command_line(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    made = run_cli(["users", "create", "--email", "ops@example.com", "--password", "a-long-password",
                    "--name", "Ops", "--role", "admin"], env)
    assert made.returncode == 0, made.stderr[-2000:]

    created = run_cli(["tokens", "create", "--name", "CRM", "--user", "ops@example.com", "--scope", "agent",
                       "--scope", "conversations:read"], env)
    assert created.returncode == 0, created.stderr[-2000:]
    token = re.search(r"(pk_[A-Za-z0-9_-]{40,})", created.stdout)
    assert token, created.stdout
    listed = run_cli(["tokens", "list"], env).stdout
    assert "CRM" in listed and token.group(1)[:11] in listed and token.group(1) not in listed
    assert "never used" in listed and "active" in listed
    token_id = listed.split("\t", 1)[0]
    assert run_cli(["tokens", "revoke", token_id], env).returncode == 0
    assert "revoked" in run_cli(["tokens", "list"], env).stdout
    refused = run_cli(["tokens", "create", "--name", "x", "--user", "ops@example.com", "--scope", "root"], env)
    assert refused.returncode == 1 and "unknown scope" in refused.stderr
    assert run_cli(["tokens", "revoke", "999"], env).returncode == 1

    hook = run_cli(["webhooks", "create", "--url", "https://crm.example.com/hook", "--event", "message.created",
                    "--event", "case.resolved"], env)
    assert hook.returncode == 0, hook.stderr[-2000:]
    assert re.search(r"whsec_[A-Za-z0-9_-]{40,}", hook.stdout)
    hook_id = hook.stdout.split("\t", 1)[0]
    assert "case.resolved,message.created" in run_cli(["webhooks", "list"], env).stdout
    private = run_cli(["webhooks", "create", "--url", "http://127.0.0.1:9/"], env)
    assert private.returncode == 1 and "not a public address" in private.stderr
    assert "disabled" in run_cli(["webhooks", "update", hook_id, "--disable"], env).stdout
    rotated = run_cli(["webhooks", "rotate-secret", hook_id, "--grace-hours", "1"], env)
    assert rotated.returncode == 0 and "whsec_" in rotated.stdout
    assert run_cli(["webhooks", "deliveries", hook_id], env).returncode == 0
    assert run_cli(["webhooks", "replay", "whd_nope"], env).returncode == 1
    assert run_cli(["webhooks", "delete", hook_id], env).returncode == 0
    assert run_cli(["webhooks", "list"], env).stdout.strip() == ""
    audit = run_cli(["site", "audit"], env).stdout
    assert "token.created" in audit and "webhook.secret_rotated" in audit and "webhook.deleted" in audit
