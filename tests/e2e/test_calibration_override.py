"""Editors see how the bot's thresholds were calibrated and may override them: through a real
server, stored, audited, validated, applied by every process and kept across a restart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.harness import LiveServer

QUESTION = "how do I reset my password"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def preview(server: LiveServer, token: str) -> dict[str, object]:
    r = httpx.post(server.base_url + "/api/bot/preview", json={"text": QUESTION}, headers=auth(token), timeout=30)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def calibration(server: LiveServer, token: str) -> dict[str, object]:
    r = httpx.get(server.base_url + "/api/bot/calibration", headers=auth(token), timeout=30)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def test_an_editor_override_decides_on_every_process_is_audited_and_survives_a_restart(
        fresh_server: LiveServer, tmp_path: Path) -> None:
    server = fresh_server.start()
    editor, agent = server.login("editor@parley.local"), server.login("agent@parley.local")
    before = calibration(server, editor)
    cal = before["calibration"]
    assert isinstance(cal, dict)
    # how the thresholds were derived: sample, quantiles, distribution, when
    assert cal["negatives"] == 250 and sum(cal["offtopic_score_histogram"]) == 250
    assert cal["answer_quantile"] == 0.95 and cal["offer_quantile"] == 0.5
    assert cal["offtopic_score_summary"]["min"] <= cal["offer_threshold"] <= cal["answer_threshold"] \
        <= cal["offtopic_score_summary"]["max"]
    assert abs(time.time() - cal["computed_at"]) < 3600
    assert before["effective"] == {"answer_threshold": cal["answer_threshold"], "offer_threshold": cal["offer_threshold"],
                                   "answer_source": "calibrated", "offer_source": "calibrated"}
    assert before["editor_override"] is None
    answered = preview(server, editor)
    assert answered["action"] == "answer", answered

    # agents may not read or change it; hostile bodies are 4xx, never stored
    url = server.base_url + "/api/bot/calibration/override"
    assert httpx.get(server.base_url + "/api/bot/calibration", headers=auth(agent)).status_code == 403
    assert httpx.put(url, json={"answer_threshold": 0.9, "offer_threshold": 0.5}, headers=auth(agent)).status_code == 403
    for bad in ({"answer_threshold": 0.5, "offer_threshold": 0.6}, {"answer_threshold": 1.5, "offer_threshold": 0.2},
                {"answer_threshold": -0.1, "offer_threshold": -0.2}, {"answer_threshold": "high", "offer_threshold": 0.1},
                {"answer_threshold": 0.9}, {"answer_threshold": 0.9, "offer_threshold": 0.5, "extra": 1}, [0.9, 0.5]):
        r = httpx.put(url, json=bad, headers=auth(editor))
        assert r.status_code == 422, (bad, r.text)
    r = httpx.put(url, content=b'{"answer_threshold": NaN, "offer_threshold": 0.1}',
                  headers={**auth(editor), "Content-Type": "application/json"})
    assert r.status_code == 422
    assert calibration(server, editor)["editor_override"] is None

    # a second process on the same database (it reads the override on its poll of the store)
    other = LiveServer(server.data_dir).start()
    try:
        assert preview(other, other.login("editor@parley.local"))["action"] == "answer"
        r = httpx.put(url, json={"answer_threshold": 0.995, "offer_threshold": 0.99}, headers=auth(editor))
        assert r.status_code == 200, r.text
        now = r.json()
        assert now["effective"] == {"answer_threshold": 0.995, "offer_threshold": 0.99,
                                    "answer_source": "editor", "offer_source": "editor"}
        assert now["calibration"]["answer_threshold"] == cal["answer_threshold"]  # the derived ones stay readable
        assert now["editor_override"]["updated_by"] is not None
        assert preview(server, editor)["action"] != "answer"
        other_editor = other.login("editor@parley.local")
        deadline = time.monotonic() + 15
        while preview(other, other_editor)["action"] == "answer" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert preview(other, other_editor)["action"] != "answer"
        assert calibration(other, other_editor)["effective"]["answer_source"] == "editor"
    finally:
        other.stop()

    # audited, with who and what
    admin = server.login("admin@parley.local")
    audit = httpx.get(server.base_url + "/api/admin/audit", params={"target": "bot.thresholds"}, headers=auth(admin)).json()
    assert [(e["action"], e["actor"]) for e in audit] == [("bot.thresholds_overridden", "editor@parley.local")]
    assert audit[0]["detail"]["answer_threshold"] == 0.995
    assert calibration(server, editor)["history"][0]["answer_threshold"] == 0.995

    # kept across a restart, then back to calibrated
    server.stop()
    server.start()
    editor = server.login("editor@parley.local")
    assert calibration(server, editor)["effective"]["answer_source"] == "editor"
    assert preview(server, editor)["action"] != "answer"
    r = httpx.delete(url, headers=auth(editor))
    assert r.status_code == 200 and r.json()["editor_override"] is None
    assert r.json()["effective"]["answer_source"] == "calibrated"
    assert preview(server, editor)["action"] == "answer"
    audit = httpx.get(server.base_url + "/api/admin/audit", params={"target": "bot.thresholds"}, headers=auth(admin)).json()
    assert audit[0]["action"] == "bot.thresholds_calibrated" and audit[0]["detail"]["previous"]["answer_threshold"] == 0.995


@pytest.mark.parametrize("env", [{"PARLEY_ANSWER_THRESHOLD": "0.2"}])
def test_the_operator_setting_wins_over_an_editor_override(demo_template: Path, tmp_path: Path,
                                                          env: dict[str, str]) -> None:
    from tests.harness import copy_data

    server = LiveServer(copy_data(demo_template, tmp_path / "data"), **env).start()
    try:
        editor = server.login("editor@parley.local")
        r = httpx.put(server.base_url + "/api/bot/calibration/override",
                      json={"answer_threshold": 0.99, "offer_threshold": 0.3}, headers=auth(editor))
        assert r.status_code == 200
        eff = r.json()["effective"]
        assert eff["answer_threshold"] == 0.2 and eff["answer_source"] == "operator"
        assert eff["offer_source"] == "editor" and eff["offer_threshold"] == 0.2  # never above the answer one
        assert r.json()["overrides"]["answer_threshold"] == 0.2
    finally:
        server.stop()
