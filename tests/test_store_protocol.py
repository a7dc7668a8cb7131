"""SqlStore is held to the Store protocol (app/storage/base.py): every public method of one is a
method of the other, with the same parameters in the same order."""

from __future__ import annotations

import inspect

from app.storage.base import Store
from app.storage.sql import SqlStore


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in inspect.getmembers(cls, predicate=inspect.isfunction)
            if not name.startswith("_") and name != "from_url"}


def test_sql_store_implements_the_store_protocol() -> None:
    protocol, store = _methods(Store), _methods(SqlStore)
    assert sorted(set(store) - set(protocol)) == [], "store methods missing from app/storage/base.py"
    assert sorted(set(protocol) - set(store)) == [], "protocol methods SqlStore does not have"
    for name, sig in protocol.items():
        ours = store[name]
        assert [(p.name, p.kind) for p in sig.parameters.values()] == \
            [(p.name, p.kind) for p in ours.parameters.values()], name
        assert inspect.iscoroutinefunction(getattr(Store, name)) == inspect.iscoroutinefunction(getattr(SqlStore, name)), name
