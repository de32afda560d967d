"""The fuzz target (fuzz/fuzz_stepwire.py): its seeds pass, and a short seeded atheris run.

``make fuzz`` is the long run; docs/hardening.md says what the target checks.
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import stepwire
from helpers import REAL, ROOT, load_impl, scaled
from stepwire._stream import NO_EXTENSIONS

TARGET = ROOT / "fuzz" / "fuzz_stepwire.py"
# The short run: a fixed seed and run count (3000 at the suite's full depth); the time cap
# only guards a slow machine.
SHORT_RUNS = scaled(3000, minimum=300)
SHORT_SECONDS = 20


def _load_target():
    spec = importlib.util.spec_from_file_location("fuzz_stepwire", TARGET)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def target():
    load_impl("cython")  # the target is differential: it skips with the pure-Python build
    return _load_target()


def _atheris():
    """atheris, or a skip where the fuzz extra does not install it (Python >= 3.14)."""
    try:
        import atheris
    except ImportError:
        if sys.version_info >= (3, 14):
            pytest.skip("the fuzz extra has no atheris for Python >= 3.14")
        pytest.fail("atheris is not installed: pip install '.[fuzz]' (make test does)")
    return atheris


def test_build_under_test():
    """The compiled module comes from the stepwire under test, not from another install.

    ``make asan`` sets STEPWIRE_EXPECT_BUILD: the suite must then import that build.
    """
    expected = os.environ.get("STEPWIRE_EXPECT_BUILD") or Path(stepwire.__file__).parent
    module = load_impl("cython")
    assert Path(module.twin.__file__).resolve().is_relative_to(Path(expected).resolve())
    # STEPWIRE_NO_EXTENSIONS picks the Python build, with the compiled one still present.
    assert ("python" if NO_EXTENSIONS else "cython") == stepwire.IMPLEMENTATION


def test_provider_matches_atheris(target):
    """The pure-Python provider (--replay, make asan) reads inputs as atheris does."""
    atheris = _atheris()
    rng = random.Random(0)
    for _ in range(300):
        data = rng.randbytes(rng.randrange(0, 40))
        ours, theirs = target.Provider(data), atheris.FuzzedDataProvider(data)
        for _ in range(rng.randrange(1, 8)):
            lo = rng.randrange(0, 10)
            hi = lo + rng.choice([0, 1, 16, 255, 256, 0xFFFF, 0x10000, 2**40])
            assert ours.ConsumeIntInRange(lo, hi) == theirs.ConsumeIntInRange(lo, hi)
            assert ours.remaining_bytes() == theirs.remaining_bytes()
        n = rng.randrange(0, 50)
        assert ours.ConsumeBytes(n) == theirs.ConsumeBytes(n)
        assert target.parse_input(data) == target.parse_input(
            data, atheris.FuzzedDataProvider(data)
        )


@pytest.mark.parametrize(
    ("flags", "cuts"), [(0, []), (255, [0, 3, 3, 70_000 % 65_536]), (7, list(range(16)))]
)
def test_make_input_round_trips(target, flags, cuts):
    body = b"event: x\ndata: {}\n\n"
    parsed = target.parse_input(target.make_input(body, flags, cuts))
    assert parsed == (body, flags, sorted({c % (len(body) + 1) for c in cuts}))


def test_seed_corpus_passes(target, tmp_path):
    """Every seed input goes through every check without a finding."""
    summary = target.build_corpus(tmp_path)
    if REAL.is_dir():
        assert "no real fixtures" not in summary
    else:
        assert "no real fixtures" in summary
    assert target.replay_paths([str(tmp_path)]) == len(list(tmp_path.iterdir())) > 20


def test_short_fuzz_run(tmp_path):
    """A short seeded atheris run over the seed corpus: no finding."""
    _atheris()
    load_impl("cython")
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("under ASan, make asan replays the corpus instead (atheris's libFuzzer)")
    seeds, work = tmp_path / "seeds", tmp_path / "work"
    work.mkdir()
    env = dict(os.environ)
    # The subprocess imports the same stepwire as this test run.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(stepwire.__file__).resolve().parent.parent), env.get("PYTHONPATH", "")]
    )
    subprocess.run(
        [sys.executable, str(TARGET), "--build-corpus", str(seeds)],
        env=env,
        check=True,
        capture_output=True,
    )
    args = [
        sys.executable,
        str(TARGET),
        "-seed=1",
        f"-runs={SHORT_RUNS}",
        f"-max_total_time={SHORT_SECONDS}",
        "-timeout=10",
        "-print_final_stats=1",
        f"-artifact_prefix={tmp_path}/",
        str(work),
        str(seeds),
    ]
    result = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=SHORT_SECONDS + 60, check=False
    )
    output = result.stdout + result.stderr
    found = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert result.returncode == 0, f"fuzz finding {found}:\n{output[-6000:]}"
    assert "Done " in output, output[-3000:]
