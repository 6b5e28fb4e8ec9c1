"""How quickly a command starts: ``flask --app tracker jobs list`` as a fresh process, the
median of 5, against ``python -c "import flask"`` in the same run (alternately, so a busy
machine slows both alike). Target (issue 18): at most 0.8 s on an idle 2-core machine.

A third reference, the stack's floor: the imports any ``flask`` command of this app makes
before it runs a line of ours (Flask's CLI, Flask-SQLAlchemy with SQLAlchemy's ORM, the other
extensions ``create_app`` binds, and Flask-Limiter's ``limiter`` command group with ``rich``,
which ``flask`` loads as a plugin for every command). What the command spends over the floor
is the project's: its models, the mapper configuration of its first query, the command.

``python -m bench.cli_start`` prints the figures and the ten heaviest imports of the
command (``python -X importtime``, cumulative), which say what dominates;
``python -m bench.cli_start --instructions`` also counts the instructions of each of the three
under valgrind's callgrind (about two minutes): unlike seconds, the same on a busy machine.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import Figure

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ["-m", "flask", "--app", "tracker", "jobs", "list"]
BARE = ["-c", "import flask"]
FLOOR = ["-c", "import flask.cli, flask_sqlalchemy, sqlalchemy.orm, flask_limiter.commands, "
               "flask_babel, flask_login, flask_wtf, flask_compress"]


def _env(database_url=None):
    # Bytecode written and read, as an installed app has it: with PYTHONDONTWRITEBYTECODE set
    # (a test runner, a container) every start would compile the project's modules afresh.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _time(args, env):
    """(wall seconds, CPU seconds: user + system) of one fresh process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(runs=5, database_url=None):
    env = _env(database_url)
    _time(COMMAND, env)  # warm the file cache and the bytecode
    command, bare, floor = [], [], []
    for _ in range(runs):
        command.append(_time(COMMAND, env))
        bare.append(_time(BARE, env))
        floor.append(_time(FLOOR, env))
    c = statistics.median(w for w, _ in command)
    b = statistics.median(w for w, _ in bare)
    f = statistics.median(w for w, _ in floor)
    # CPU time as well: on a shared, loaded machine the wall clock mostly measures the queue.
    c_cpu = statistics.median(cpu for _, cpu in command)
    b_cpu = statistics.median(cpu for _, cpu in bare)
    return [Figure("cli_start_jobs_list_s", c, "s"), Figure("cli_start_import_flask_s", b, "s"),
            Figure("cli_start_over_flask_s", c - b, "s"),
            Figure("cli_start_stack_floor_s", f, "s"), Figure("cli_start_over_floor_s", c - f, "s"),
            Figure("cli_start_jobs_list_cpu_s", c_cpu, "s"),
            Figure("cli_start_import_flask_cpu_s", b_cpu, "s"),
            Figure("cli_start_load_average", os.getloadavg()[0], "load")]


def heaviest_imports(n=10, database_url=None):
    """The top-level packages by cumulative import time (µs) in ``jobs list``."""
    result = subprocess.run([sys.executable, "-X", "importtime", *COMMAND], env=_env(database_url),
                            cwd=ROOT, capture_output=True, text=True, check=True)
    rows = []
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 1:  # top-level imports only
            rows.append((int(m.group(2)), m.group(4)))
    return sorted(rows, reverse=True)[:n]


def instructions(database_url=None):
    """Instructions executed (millions) by the command, ``import flask`` and the floor."""
    import tempfile

    counts = {}
    for name, args in (("jobs_list", COMMAND), ("import_flask", BARE), ("stack_floor", FLOOR)):
        with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
            result = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
                 sys.executable, *args], env=_env(database_url), cwd=ROOT,
                capture_output=True, text=True, check=True)
        counts[name] = int(re.search(r"Collected : (\d+)", result.stderr).group(1)) / 1e6
    return [Figure(f"cli_start_{name}_minstr", value, "Minstr") for name, value in counts.items()]


def main():
    """On ``DATABASE_URL``, or on a fresh SQLite file given its schema by ``flask db upgrade``."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL")
        if not url:
            url = f"sqlite:///{tmp}/cli_start.db"
            subprocess.run([sys.executable, "-m", "flask", "--app", "tracker", "db", "upgrade"],
                           env=_env(url), cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for figure in measure(database_url=url):
            print(figure.line(), flush=True)
        if "--instructions" in sys.argv[1:]:
            for figure in instructions(database_url=url):
                print(figure.line(), flush=True)
        print("# heaviest imports of `jobs list` (cumulative ms):")
        for us, name in heaviest_imports(database_url=url):
            print(f"#   {name} {us / 1000:.0f} ms")


if __name__ == "__main__":
    main()
