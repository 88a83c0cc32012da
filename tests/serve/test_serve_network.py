"""The server's sockets, looked at from outside: TCP_NODELAY on every connection, clients that hang up.

The accepted connections are read in the server's own processes: ``pidfd_getfd`` (Linux 5.6+)
gives this test a duplicate of each socket descriptor the server (or each of its workers)
holds, and ``getsockopt`` on it reads the option the kernel has for that very connection.
"""

from __future__ import annotations

import ctypes
import errno
import http.client
import os
import re
import socket
import time

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from test_serve_reliability import Server

import modelworks.package as mp
from modelworks.data import make_pipeline

_SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    rng = np.random.default_rng(1)
    X = pd.DataFrame({f"x{i}": rng.normal(size=200) for i in range(4)})
    y = np.where(X["x0"] - X["x1"] > 0, "up", "down")
    model = make_pipeline(X, LogisticRegression()).fit(X, y)
    return mp.save(model, tmp_path_factory.mktemp("net") / "pkg", X_sample=X, y_sample=y, task="binary"), X


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes are children of the server)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _accepted_connections(pids: list[int], port: int) -> dict[int, list[int]]:
    """For each process, the TCP_NODELAY value of every connection it accepted on ``port``."""
    libc = ctypes.CDLL(None, use_errno=True)
    found: dict[int, list[int]] = {}
    for pid in pids:
        try:
            pidfd = os.pidfd_open(pid)
            fds = os.listdir(f"/proc/{pid}/fd")
        except (ProcessLookupError, FileNotFoundError):
            continue
        try:
            for fd in fds:
                try:
                    if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                        continue
                except OSError:
                    continue
                dup = libc.syscall(_SYS_PIDFD_GETFD, pidfd, int(fd), 0)
                if dup < 0:
                    err = ctypes.get_errno()
                    if err in (errno.EPERM, errno.ENOSYS, errno.EACCES):
                        pytest.skip(f"cannot read another process's sockets here: {os.strerror(err)}")
                    continue
                with socket.socket(fileno=dup) as s:
                    if s.family not in (socket.AF_INET, socket.AF_INET6) or s.type != socket.SOCK_STREAM:
                        continue
                    try:
                        s.getpeername()  # the listening socket has no peer
                    except OSError:
                        continue
                    if s.getsockname()[1] == port:
                        found.setdefault(pid, []).append(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        finally:
            os.close(pidfd)
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_every_accepted_connection_has_tcp_nodelay(package, workers):
    path, X = package
    server = Server(str(path), "--workers", str(workers))
    port = int(re.search(r":(\d+)$", server.url).group(1))
    clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(8)]
    try:
        body = pd.DataFrame(X.head(2)).to_json(orient="records").encode()
        for c in clients:  # keep-alive: each connection stays open, accepted by one of the processes
            c.request("POST", "/predict", body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            assert r.status == 200, r.read()
            r.read()
        found = _accepted_connections(_process_tree(server.proc.pid), port)
    finally:
        for c in clients:
            c.close()
        server.stop()
    flags = [v for values in found.values() for v in values]
    assert len(flags) == len(clients), found
    assert all(v != 0 for v in flags), found  # every connection, in every worker
    if workers > 1:
        assert server.proc.pid not in found  # the supervisor accepts nothing; its workers do


def _metrics(url: str) -> dict:
    return httpx.get(url + "/metrics", params={"format": "json"}, timeout=30).json()


def test_a_client_that_hangs_up_mid_body_is_a_disconnect_not_a_500(package):
    path, X = package
    server = Server(str(path))
    port = int(re.search(r":(\d+)$", server.url).group(1))
    try:
        head = (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n")
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(head + b'{"records": [{"x0": 1.5, "x1":')  # and then the client is gone
            time.sleep(0.05)
        deadline = time.monotonic() + 60
        while _metrics(server.url)["requests"].get("/predict 499", 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        metrics = _metrics(server.url)
        text = httpx.get(server.url + "/metrics", timeout=30).text
        ok = httpx.post(server.url + "/predict", json={"records": X.head(1).to_dict(orient="records")}, timeout=30)
    finally:
        server.stop()
    assert metrics["requests"].get("/predict 499") == 3, metrics
    assert metrics["rejected"].get("client_disconnect") == 3
    assert not any(k.endswith(" 500") for k in metrics["requests"])
    assert 'modelworks_requests_total{path="/predict",status="499"} 3' in text
    assert 'modelworks_rejected_total{reason="client_disconnect"} 3' in text
    assert ok.status_code == 200
    log = "".join(server.lines)
    assert "Traceback" not in log and "failed" not in log, log


def test_the_listening_socket_gives_asyncio_connections_tcp_nodelay():
    """Without uvloop (which sets it itself), asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets."""
    import asyncio

    from modelworks.serve._server import _bind

    async def check() -> int:
        listener = _bind("127.0.0.1", 0)
        assert listener.proto == socket.IPPROTO_TCP
        accepted: list[int] = []

        async def on_client(reader, writer):
            accepted.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_client, sock=listener)
        async with server:
            reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            await reader.read()  # the server closed it after looking
            writer.close()
        return accepted[0]

    loop = asyncio.new_event_loop()  # asyncio's own loop, whatever policy is installed
    try:
        assert loop.run_until_complete(check()) != 0
    finally:
        loop.close()
