"""HTTP/1.1 behaviour of the real tmcd: framing tricks real clients use, protocol errors as Status
bodies, many concurrent watch streams, and watches ending cleanly on SIGTERM."""
import json
import resource
import signal
import subprocess

import pytest
import requests

from api_helpers import CREG, creg


@pytest.fixture
def tmcd(daemon, tmp_path):
    return daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=false", "--api-max-request-bytes=65536",
                  "--api-max-watches=1500")


def raw(tmcd, data, until=b"\r\n\r\n"):
    """Raw bytes over the Unix socket listener: the same HTTP server, without TLS in the way."""
    with tmcd.connect() as s:
        s.sendall(data)
        got = b""
        while until not in got:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def body_of(response):
    head, _, body = response.partition(b"\r\n\r\n")
    return head.decode(), json.loads(body) if body else None


def test_curl_expect_100_continue_and_chunked_upload(tmcd):
    doc = json.dumps(creg("big", location="x" * 60)).encode()
    for extra in (["-H", "Expect: 100-continue"], ["-H", "Transfer-Encoding: chunked"]):
        name = "c-" + extra[1].split(":")[0].lower()
        payload = doc.replace(b'"big"', json.dumps(name).encode())
        out = subprocess.run([*tmcd.curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-XPOST", "--data-binary", "@-",
                              "-H", "Content-Type: application/json", *extra, tmcd.base + CREG],
                             input=payload, capture_output=True, timeout=30, check=True)
        assert out.stdout == b"201", out.stderr
        assert requests.get(tmcd.base + CREG + "/" + name).json()["spec"]["location"] == "x" * 60


def test_pipelined_requests_answer_in_order(tmcd):
    requests.post(tmcd.base + CREG, json=creg("p1"))
    got = raw(tmcd, (f"GET {CREG}/p1 HTTP/1.1\r\nHost: x\r\n\r\n" * 2 +
                          f"GET {CREG}/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode(), b"NotFound")
    assert got.count(b"HTTP/1.1 200 OK") == 2
    assert got.index(b"HTTP/1.1 404") > got.rindex(b"HTTP/1.1 200 OK")


@pytest.mark.parametrize("request_bytes,code,reason", [
    (b"BREW /pot HTTP/1.1\r\n\r\n", 405, "MethodNotAllowed"),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, "BadRequest"),
    (b"GET /x HTTP/3.0\r\n\r\n", 505, "InternalError"),
    (b"nonsense\r\n\r\n", 400, "BadRequest"),
    (b"POST " + CREG.encode() + b" HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413, "RequestEntityTooLarge"),
    (b"POST " + CREG.encode() + b" HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "InternalError"),
])
def test_protocol_errors_are_status_bodies(tmcd, request_bytes, code, reason):
    head, status = body_of(raw(tmcd, request_bytes, b"}"))
    assert head.startswith(f"HTTP/1.1 {code} ")
    assert status["kind"] == "Status" and status["code"] == code and status["reason"] == reason
    assert requests.get(tmcd.base + "/healthz").text == "ok"


def test_a_thousand_two_hundred_watchers_each_get_the_event(tmcd):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 3000:
        pytest.skip("the hard open-file limit is below 3,000")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    try:
        for _ in range(1200):
            s = tmcd.connect(timeout=20)
            s.sendall(f"GET {CREG}?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            socks.append(s)
        for s in socks:  # every stream is open before the write
            assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")
        assert requests.post(tmcd.base + CREG, json=creg("fanout")).status_code == 201
        for s in socks:
            got = b""
            while b'"fanout"' not in got:
                chunk = s.recv(65536)
                assert chunk, "stream closed before the event arrived"
                got += chunk
        text = requests.get(tmcd.base + "/metrics").text
        assert "tmcd_api_open_watches 1200" in text
    finally:
        for s in socks:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_sigterm_ends_watch_streams_with_the_final_chunk(tmcd):
    s = tmcd.connect(timeout=10)
    s.sendall(f"GET {CREG}?watch=1 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")
    tmcd.proc.send_signal(signal.SIGTERM)
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    assert got.endswith(b"0\r\n\r\n")
    assert tmcd.proc.wait(timeout=20) == 0
