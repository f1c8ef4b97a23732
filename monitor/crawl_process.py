"""Run one crawl as a supervised subprocess (the scrapyd model).

A crash, a leak or a hang in a crawl never takes the scheduler down: the crawl runs in
its own process and session (so a Ctrl-C in the terminal reaches only the scheduler,
which then stops the crawl with exactly one SIGTERM: Scrapy's clean shutdown; a second
signal would make Scrapy stop uncleanly). On timeout or stop it gets SIGTERM, and after
a grace period SIGKILL to its whole process group (extraction workers included).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

STDERR_TAIL = 4000
STDOUT_LIMIT = 2_000_000


@dataclass(frozen=True)
class ProcessResult:
    """How a supervised process ended."""

    pid: int
    exit_code: int | None
    outcome: str  # ok | failed | crashed | timeout | stopped
    stdout: str
    stderr_tail: str
    seconds: float
    killed: bool = False

    def describe(self) -> str:
        code = "killed" if self.killed else f"exit code {self.exit_code}"
        return f"{self.outcome} ({code}, {self.seconds:.1f} s)"


def outcome_of(exit_code: int | None, *, timed_out: bool, stopped: bool) -> str:
    if timed_out:
        return "timeout"
    if stopped:
        return "stopped"
    if exit_code == 0:
        return "ok"
    if exit_code in (1, 2):
        return "failed"  # newsmon's own exit codes: the crawl failed / bad configuration
    return "crashed"


async def _drain(stream: asyncio.StreamReader | None, limit: int, keep_tail: bool) -> str:
    if stream is None:
        return ""
    buf = bytearray()
    while chunk := await stream.read(65536):
        buf += chunk
        if len(buf) > limit:
            if keep_tail:
                del buf[: len(buf) - limit]
            else:
                del buf[limit:]
    return buf.decode("utf-8", "replace")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def run_supervised(
    argv: Sequence[str],
    *,
    timeout: float,
    grace: float,
    stop: asyncio.Event,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    on_signal: Callable[[int], None] | None = None,
) -> ProcessResult:
    """Run ``argv`` until it exits, ``timeout`` seconds pass, or ``stop`` is set.

    ``on_signal(pid)`` is called once SIGTERM has been sent (a stop or the timeout): the
    scheduler says so in its log, where an operator sees why a crawl ends early.
    """
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    out_task = asyncio.ensure_future(_drain(proc.stdout, STDOUT_LIMIT, keep_tail=False))
    err_task = asyncio.ensure_future(_drain(proc.stderr, STDERR_TAIL, keep_tail=True))
    exited = asyncio.ensure_future(proc.wait())
    stopping = asyncio.ensure_future(stop.wait())
    timed_out = stopped = killed = False
    try:
        done, _ = await asyncio.wait(
            {exited, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if exited not in done:
            timed_out, stopped = stopping not in done, stopping in done
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
                if on_signal is not None:
                    on_signal(proc.pid)
            finished, _ = await asyncio.wait({exited}, timeout=grace)
            if not finished:
                killed = True
                _signal_group(proc.pid, signal.SIGKILL)
                await exited
        # Children of the crawl (extraction workers) must not outlive it.
        _signal_group(proc.pid, signal.SIGKILL)
        stdout = await out_task
        stderr = await err_task
    finally:
        stopping.cancel()
        if proc.returncode is None:  # cancelled: never leave the crawl behind
            _signal_group(proc.pid, signal.SIGKILL)
    code = proc.returncode
    return ProcessResult(
        pid=proc.pid,
        exit_code=code,
        outcome=outcome_of(code, timed_out=timed_out, stopped=stopped),
        stdout=stdout,
        stderr_tail=stderr[-STDERR_TAIL:],
        seconds=time.monotonic() - began,
        killed=killed,
    )
