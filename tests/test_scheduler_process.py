"""Supervised crawl subprocesses: exit codes, timeout with SIGTERM then SIGKILL, stop.

The children are tiny Python programs that wait for a signal (signal.pause), so the
timeouts below are the mechanism under test, not waits for something to happen.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from monitor.crawl_process import ProcessResult, outcome_of, run_supervised

TERM_POLITELY = """
import signal, sys
def bye(*_):
    print("clean shutdown", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
open(sys.argv[1], "w").close()
while True:
    signal.pause()
"""

IGNORE_TERM = """
import signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").close()
while True:
    signal.pause()
"""

LEAVE_A_CHILD = """
import signal, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
print(child.pid, flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
open(sys.argv[1], "w").close()
signal.pause()
"""


def _run(
    code: str,
    *args: str,
    timeout: float = 30,
    grace: float = 5,
    stop_when: Path | None = None,
    signalled: list[int] | None = None,
) -> ProcessResult:
    async def main() -> ProcessResult:
        stop = asyncio.Event()

        async def stopper() -> None:
            assert stop_when is not None
            deadline = time.monotonic() + 20
            while not stop_when.exists() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)  # polling for the child's ready file
            stop.set()

        task = asyncio.ensure_future(stopper()) if stop_when else None
        result = await run_supervised(
            [sys.executable, "-c", code, *args],
            timeout=timeout,
            grace=grace,
            stop=stop,
            on_signal=None if signalled is None else signalled.append,
        )
        if task:
            task.cancel()
        return result

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("code", "outcome"),
    [("0", "ok"), ("1", "failed"), ("2", "failed"), ("3", "crashed")],
)
def test_exit_codes(code: str, outcome: str) -> None:
    result = _run(f"import sys; print('{{\"run_id\": 1}}'); sys.exit({code})")
    assert result.exit_code == int(code)
    assert result.outcome == outcome
    assert result.stdout.strip() == '{"run_id": 1}'


def test_a_crash_is_reported_with_its_stderr() -> None:
    result = _run("raise RuntimeError('spider exploded')")
    assert result.outcome == "failed"  # Python exits 1 on an uncaught exception
    assert "spider exploded" in result.stderr_tail
    assert outcome_of(-11, timed_out=False, stopped=False) == "crashed"


def test_timeout_sends_sigterm_first(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    signalled: list[int] = []
    result = _run(TERM_POLITELY, str(ready), timeout=3.0, signalled=signalled)
    assert signalled == [result.pid]  # the scheduler logs it
    assert result.outcome == "timeout"
    assert not result.killed
    assert result.exit_code == 0
    assert "clean shutdown" in result.stdout


def test_sigkill_after_the_grace_period(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    result = _run(IGNORE_TERM, str(ready), timeout=3.0, grace=0.5)
    assert result.outcome == "timeout"
    assert result.killed
    assert result.exit_code == -9


def test_stop_event_stops_the_child_cleanly(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    result = _run(TERM_POLITELY, str(ready), stop_when=ready)
    assert result.outcome == "stopped"
    assert not result.killed
    assert "clean shutdown" in result.stdout


def test_grandchildren_do_not_outlive_the_crawl(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    result = _run(LEAVE_A_CHILD, str(ready), stop_when=ready)
    grandchild = int(result.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{grandchild}/stat").exists():
            state = Path(f"/proc/{grandchild}/stat").read_text().split(")")[-1].split()[0]
            if state == "Z":  # killed, waiting to be reaped by init
                break
        time.sleep(0.02)  # polling the process table with a deadline
    else:
        pytest.fail(f"grandchild {grandchild} still alive")
