"""Reproducible installs: `make run` installs only what running needs and `make test` the test
extra too, each from a lock file that pins every package, transitive ones included, with its
hashes (`make lock` regenerates them from pyproject.toml's pins)."""
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_TOOLS = ("pytest", "playwright", "schemathesis", "hypothesis", "bandit")


def _name(requirement):
    """``Flask-Babel==4.0.0`` -> ``flask-babel`` (PEP 503 normalised, extras dropped)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements):
    return {_name(r): r.split("==", 1)[1].split(";")[0].split("#")[0].strip()
            for r in requirements}


def _lock(name):
    """{package: version} of a lock file, its requirement entries (a requirement line with
    its continuation lines), and its text."""
    text = (ROOT / name).read_text()
    entries = []
    for line in text.splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            entries.append(line)
        elif line.startswith(" ") and entries:
            entries[-1] += "\n" + line
    pins = {}
    for entry in entries:
        requirement = entry.split(" ", 1)[0]
        pins[_name(requirement)] = requirement.partition("==")[2]
    return pins, entries, text


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_runtime_lock_has_every_pin_of_pyproject_and_no_test_tool():
    locked, _, _ = _lock("requirements.lock")
    wanted = _pins(_project()["dependencies"])
    assert {name: locked.get(name) for name in wanted} == wanted
    assert [tool for tool in TEST_TOOLS if tool in locked] == []


def test_the_test_lock_is_the_runtime_lock_and_the_test_extra_at_the_same_versions():
    runtime, _, _ = _lock("requirements.lock")
    test, _, _ = _lock("requirements-test.lock")
    assert {name: test.get(name) for name in runtime} == runtime
    wanted = _pins(_project()["optional-dependencies"]["test"])
    assert {name: test.get(name) for name in wanted} == wanted
    assert set(TEST_TOOLS) <= set(test)


@pytest.mark.parametrize("name", ["requirements.lock", "requirements-test.lock"])
def test_every_locked_package_is_pinned_with_its_hashes_and_nothing_local(name):
    locked, entries, text = _lock(name)
    assert len(entries) == len(locked) > 30
    unhashed = [e.split(" ", 1)[0] for e in entries
                if "==" not in e.split(" ", 1)[0] or "--hash=sha256:" not in e]
    assert unhashed == []
    for local in ("file:", "/opt/", "--index-url", "--extra-index-url", "--find-links", "-e "):
        assert local not in text, local


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_installs_the_runtime_lock_and_make_test_the_test_lock(tmp_path):
    def planned(target):
        return subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout

    run, test = planned("run"), planned("test")
    assert "--require-hashes -r requirements.lock" in run
    assert "--no-deps -e ." in run
    assert "requirements-test.lock" not in run and "[test]" not in run
    assert "--require-hashes -r requirements-test.lock" in test
