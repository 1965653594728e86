"""Runs the service under pyinstrument and saves the session when it stops (for the profile).

`python -m bench.profiled_serve OUT.pyisession -m bot serve` (or `... OUT script.py`).
Why not pyinstrument's own command line: uvicorn re-raises SIGTERM after its graceful shutdown,
which kills the process before pyinstrument's CLI writes anything. Here SIGTERM (when it comes
back from uvicorn) becomes SystemExit, and the session is saved on the way out.
"""

from __future__ import annotations

import runpy
import signal
import sys
from pathlib import Path
from types import FrameType

from pyinstrument import Profiler


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    out = Path(sys.argv[1])
    target = sys.argv[2:]
    signal.signal(signal.SIGTERM, _exit)
    # Wall-clock samples of the event-loop thread: idle time shows up as waiting in epoll.
    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        if target[0] == "-m":
            sys.argv = [target[1], *target[2:]]
            runpy.run_module(target[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(target)
            runpy.run_path(target[0], run_name="__main__")
    except SystemExit:
        pass
    finally:
        profiler.stop()
        profiler.last_session.save(str(out))


if __name__ == "__main__":
    main()
