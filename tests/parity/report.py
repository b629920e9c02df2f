"""Print the parity figures (episodes, turns and official crashes per scenario, branches covered).

PYTHONPATH=. .venv/bin/python tests/parity/report.py [SEED]
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parity.cases import INSTALL_HINT, official_python, run_parity  # noqa: E402


def main() -> None:
    interpreter = official_python()
    if interpreter is None:
        sys.exit(f"no interpreter can import proactivebench.environment; {INSTALL_HINT}")
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with tempfile.TemporaryDirectory(prefix="pb_parity_") as folder:
        report = run_parity(Path(folder), interpreter, seed=seed)
    print("\n".join(report.lines()))
    print("\n".join(report.mismatches[:50]))
    sys.exit(1 if report.mismatches else 0)


if __name__ == "__main__":
    main()
