"""Shared fixtures: the two stream implementations behind one parameter."""

from __future__ import annotations

import pytest

from helpers import STREAM_MODULES, load_impl


@pytest.fixture(scope="session", params=list(STREAM_MODULES))
def impl(request):
    """The stream module under test (``stepwire._stream_py`` or ``stepwire._stream_c``).

    Session-scoped so that hypothesis tests may use it. The Cython parameter
    skips where the extension was not built (test_stream.py has the guard that
    fails when it should have been).
    """
    module = load_impl(request.param)
    assert request.param == module.IMPLEMENTATION
    return module
