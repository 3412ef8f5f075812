"""The process runner of `make run`: starts every Procfile process and restarts one that dies, with a backoff.

honcho (used before) stops everything when one process exits; on a hospital's single machine one crashed service
must not take the other five down. Each process runs in its own process group (so what it leaves behind, e.g.
gunicorn workers of a killed master, is cleaned up before the restart), its output is shown line by line behind its
name, and its pid is written to VAR_DIR/run/<name>.pid. Ctrl-C (or SIGTERM) stops them all.
"""

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

FIRST_DELAY, MAX_DELAY = 1.0, 30.0  # seconds before a restart, doubling while the process keeps dying
STABLE_AFTER = 60.0  # a process that ran this long starts again from the first delay
STOP_GRACE = 10.0


def read_procfile(path: Path) -> dict[str, list[str]]:
    """The processes of a Procfile (`name: command`), in order."""
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


class Supervisor:
    """Keep a set of named processes running until stopped."""

    def __init__(self, processes: dict[str, list[str]], run_dir: Path, cwd: str, out=sys.stdout):
        self.commands, self.run_dir, self.cwd, self.out = processes, run_dir, cwd, out
        self.running: dict[str, tuple[subprocess.Popen, float]] = {}
        self.delays = {name: FIRST_DELAY for name in processes}
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.width = max(len(name) for name in (*processes, "supervisor")) + 1

    def say(self, name: str, text: str) -> None:
        with self.lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}}| {text}\n")
            self.out.flush()

    def start(self, name: str) -> None:
        process = subprocess.Popen(self.commands[name], cwd=self.cwd, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        self.running[name] = (process, time.monotonic())
        (self.run_dir / f"{name}.pid").write_text(f"{process.pid}\n")
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        for raw in process.stdout:
            self.say(name, raw.decode("utf-8", "replace").rstrip())

    def run(self) -> int:
        """Start everything, restart what dies, until SIGINT/SIGTERM; return the exit code."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        for name in self.commands:
            self.start(name)
            self.say("supervisor", f"started {name} (pid {self.running[name][0].pid})")
        restarts: dict[str, float] = {}
        while not self.stopping.wait(0.2):
            for name, (process, started) in list(self.running.items()):
                if name not in restarts and process.poll() is not None:
                    restarts[name] = self._died(name, process, started)
            for name, due in list(restarts.items()):
                if time.monotonic() >= due and not self.stopping.is_set():
                    del restarts[name]
                    self.start(name)
                    self.say("supervisor", f"restarted {name} (pid {self.running[name][0].pid})")
        self.stop_all()
        return 0

    def _died(self, name: str, process: subprocess.Popen, started: float) -> float:
        """Clean up after a process that exited and say when it is restarted; return when."""
        _kill_group(process.pid, signal.SIGKILL)  # what it left running (workers) would hold its port
        if time.monotonic() - started >= STABLE_AFTER:
            self.delays[name] = FIRST_DELAY
        delay = self.delays[name]
        self.delays[name] = min(delay * 2, MAX_DELAY)
        code = process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        self.say("supervisor", f"{name} {how}; restarting it in {delay:.0f} s (the others keep running)")
        return time.monotonic() + delay

    def stop_all(self) -> None:
        """Stop every process group: SIGTERM, then SIGKILL after STOP_GRACE seconds."""
        self.say("supervisor", "stopping everything")
        for process, _started in self.running.values():
            _kill_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process, _started in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(process.pid, signal.SIGKILL)
        for name in self.running:
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the child, before it runs: on Linux, be sent SIGTERM when the supervisor dies, even by SIGKILL, so no
    service is left running (and holding its port) without it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: Ctrl-C and SIGTERM still stop everything through stop_all


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def supervise(procfile: Path, run_dir: Path, cwd: str) -> int:
    """Run a Procfile under the supervisor (what `make run` does)."""
    return Supervisor(read_procfile(procfile), run_dir, cwd).run()
