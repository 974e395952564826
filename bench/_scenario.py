"""Run one scenario module for bench/run.py: `python bench/_scenario.py MODULE OUT_JSON ARGS…`.

Imports `bench/<MODULE>.py`, calls its `main(argv)` and writes the dict it returns to OUT_JSON.
Anything that is not a dict (a script of the older print-only kind) is reported as such.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class NotAScenario(Exception):
    """A bench script of the older kind: its main() prints and takes no argv."""


def main() -> int:
    module_name, out, argv = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    try:
        module = importlib.import_module(f"bench.{module_name}")
        if not inspect.signature(module.main).parameters:
            raise NotAScenario("main() takes no argv")
        result = module.main(argv)
    except SystemExit as exc:  # argparse refusing --quick, or a script's own exit
        result = {"status": "failed", "reason": f"bench/{module_name}.py exited ({exc.code}) "
                  "instead of returning its figures: not a scenario module yet"}  # fmt: skip
    except NotAScenario as exc:
        result = {"status": "failed", "reason": f"bench/{module_name}.py is not a scenario "
                  f"module yet ({exc}; the interface is main(argv) -> dict)"}  # fmt: skip
    except Exception as exc:
        traceback.print_exc()
        result = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"[:500]}
    if not isinstance(result, dict):
        result = {"status": "failed",
                  "reason": f"bench/{module_name}.py main(argv) returned no dict"}  # fmt: skip
    out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
