"""Thread subclasses must not shadow what ``threading.Thread`` keeps on its instances.

Python 3.13 (Raspberry Pi OS trixie) stores the thread's handle in ``self._handle``: a subclass method
of that name is replaced by it, and the thread dies at the first call (found by ``make test-pi``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading

import pytest

#: Instance attributes Thread sets in CPython 3.11 to 3.13.
THREAD_ATTRIBUTES = {
    "_target", "_name", "_args", "_kwargs", "_daemonic", "_ident", "_native_id", "_handle", "_started",
    "_is_stopped", "_initialized", "_stderr", "_invoke_excepthook", "_tstate_lock", "_context",
    "_os_thread_handle",
}
PACKAGES = ("congress", "edge", "controller", "flash", "demo")


def _thread_classes():
    for name in PACKAGES:
        pkg = importlib.import_module(name)
        for info in pkgutil.walk_packages(pkg.__path__, f"{name}."):
            if info.name.endswith("__main__") or ".migrations" in info.name:  # run when imported
                continue
            try:
                module = importlib.import_module(info.name)
            except ImportError as exc:  # an optional extra that is not installed
                pytest.skip(f"{info.name}: {exc}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, threading.Thread) and cls.__module__ == module.__name__:
                    yield cls


def test_thread_subclasses_do_not_shadow_thread_attributes():
    found = list(_thread_classes())
    assert found, "expected the door unit's publisher at least"
    clashes = {f"{c.__module__}.{c.__qualname__}.{n}"
               for c in found for n in vars(c) if n in THREAD_ATTRIBUTES}
    assert not clashes
