"""Fail when the tests' coverage falls below the floor recorded in tests/coverage_floor.json.

    python .ci/coverage_floor.py coverage.json

Reads the JSON report of coverage.py (``--cov-report=json``) and compares both figures:
lines (statements) and branches, each in percent. Prints them either way.
"""
import json
import sys
from pathlib import Path

FLOOR = Path(__file__).resolve().parent.parent / "tests" / "coverage_floor.json"


def figures(totals):
    lines = 100.0 * totals["covered_lines"] / totals["num_statements"]
    branches = 100.0 * totals["covered_branches"] / totals["num_branches"]
    return lines, branches


def main(path):
    totals = json.loads(Path(path).read_text())["totals"]
    floor = json.loads(FLOOR.read_text())
    lines, branches = figures(totals)
    print(f"coverage: lines {lines:.2f} % ({totals['covered_lines']} of "
          f"{totals['num_statements']}), branches {branches:.2f} % "
          f"({totals['covered_branches']} of {totals['num_branches']}); "
          f"floor: lines {floor['lines']} %, branches {floor['branches']} %")
    failed = []
    if lines < floor["lines"]:
        failed.append(f"line coverage {lines:.2f} % is below the floor {floor['lines']} %")
    if branches < floor["branches"]:
        failed.append(f"branch coverage {branches:.2f} % is below the floor "
                      f"{floor['branches']} %")
    for message in failed:
        print(f"FAILED: {message} (tests/coverage_floor.json)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "coverage.json"))
