"""A Redis server of the test's own, on a free loopback port, that the test may kill.

The shared Redis is never stopped; a fault test starts this one, points the code under test at
it, kills it (SIGKILL, as a crash), may start it again on the same port, and always stops it.
"""

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")
START_SECONDS = 10
# Every fault test ends within this, passed or failed (time_limit below).
FAULT_TEST_SECONDS = 60

needs_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None,
    reason="fault test skipped: no redis-server binary to start a private Redis "
    "(apt-get install redis-server)",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "PrivateRedis":
        command = [
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
        ]
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the private redis-server exited ({self.process.returncode})")
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"the private redis-server did not answer within {START_SECONDS} s")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """As a crash: SIGKILL, no goodbye to the clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path):
    """A started private Redis; stopped at the end whatever happened."""
    server = PrivateRedis(tmp_path / "private-redis")
    try:
        yield server.start()
    finally:
        server.stop()


class TimeLimitExceeded(Exception):
    pass


@pytest.fixture
def time_limit():
    """Fail the test (and so run its clean-ups) if it takes longer than FAULT_TEST_SECONDS."""

    def expired(signum, frame):
        raise TimeLimitExceeded(f"the fault test took longer than {FAULT_TEST_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(FAULT_TEST_SECONDS)
    try:
        yield FAULT_TEST_SECONDS
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
