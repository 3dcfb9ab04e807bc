"""Child process for `bench.peak_memory_mb`: python -m bench._peak module:function [ARG...]

Linux only: reads the process's resident size and its high-water mark from /proc, after
resetting the mark (ru_maxrss would be no good: a spawned child can inherit its parent's).
"""

import importlib
import json
import sys
from pathlib import Path


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"{field} is not in /proc/self/status")


def main() -> None:
    target, *args = sys.argv[1:]
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    Path("/proc/self/clear_refs").write_text("5")  # resets the high-water mark to the current size
    before = _status_mb("VmRSS")
    function(*args)
    print(json.dumps({"peak_mb": round(max(0.0, _status_mb("VmHWM") - before), 1)}))


if __name__ == "__main__":
    main()
