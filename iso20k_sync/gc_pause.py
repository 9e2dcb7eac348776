"""Pausing Python's cyclic garbage collector while a large object graph is built.

Parsing a 10,000-task template, instantiating it or computing its status creates hundreds of thousands
of objects that live on; each automatic collection of the oldest generation walks all of them again,
so these phases grew about twice faster than linear. They create no reference cycles worth collecting
early, so the collector is paused for their duration (reference counting still frees everything) and
resumes afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def gc_paused() -> Iterator[None]:
    if not gc.isenabled():  # nested, or paused by the caller: leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def without_gc_pauses(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with the cyclic collector paused (see the module)."""

    @wraps(func)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with gc_paused():
            return func(*args, **kwargs)

    return paused
