"""Reliability of prediction, the CLI, the server and bulk extraction (issue 15: P1-P5,
S1-S6, E1-E5): every user error is one `error:` line with exit code 2, nothing is lost."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import subprocess
import sys
import time

import pytest
from models.tiny import tiny_config, write_corpus

import nerkit

NERKIT = [sys.executable, "-m", "nerkit"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rel-front")
    nerkit.train(tiny_config(write_corpus(directory), epochs=3), str(directory / "m"),
                 progress=False)  # fmt: skip
    return directory / "m"


def _run(*arguments, stdin: bytes | None = None, cwd=None):
    result = subprocess.run([*NERKIT, *map(str, arguments)], capture_output=True, input=stdin,
                            cwd=cwd, timeout=120)  # fmt: skip
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def _one_error_line(code, stderr, pattern):
    import re

    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert re.search(pattern, lines[0]), lines[0]


def test_an_empty_text_or_a_plain_directory_is_a_text(model_dir, tmp_path):  # P1
    code, out, _ = _run("predict", model_dir, "", "张三在北京工作。", cwd=tmp_path)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["text"] for r in records] == ["", "张三在北京工作。"]
    assert records[0]["entities"] == []
    (tmp_path / "adir").mkdir()
    code, out, _ = _run("predict", model_dir, "adir", cwd=tmp_path)
    assert code == 0 and json.loads(out)["text"] == "adir"


def test_input_files_split_on_newlines_only_and_name_bad_bytes(model_dir, tmp_path):  # P2, P3
    seps = tmp_path / "seps.txt"
    seps.write_bytes("a\u2028b\n\fc\nd\re\r\n".encode())
    code, out, _ = _run("predict", model_dir, "--input", seps)
    lines = out.rstrip("\n").split("\n")  # (str.splitlines would split at U+2028 too)
    assert code == 0 and [json.loads(x)["text"] for x in lines] == [
        "a\u2028b", "\fc", "d\re"
    ]  # fmt: skip
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe\n")
    _one_error_line(*_run("predict", model_dir, "--input", bad)[::2], r"bad\.txt:2: expected UTF-8")
    code, _, err = _run("predict", model_dir, "-", stdin=b"ok\n\xff\n")
    _one_error_line(code, err, r"<stdin>:2: expected UTF-8")


def test_python_api_errors_name_the_problem(model_dir):  # P4
    predictor = nerkit.load(str(model_dir))
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType, expected str"):
        predictor.predict(["张三", None])
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        predictor.predict(["张三"], batch_size=0)
    assert predictor.predict(t for t in ["张三在北京工作。"]) == predictor.predict(
        ["张三在北京工作。"]
    )


def test_os_errors_are_one_line(model_dir, tmp_path):
    (tmp_path / "adir").mkdir()
    code, _, err = _run("evaluate", model_dir, tmp_path / "adir", "--format", "jsonl")
    _one_error_line(code, err, "adir")


def test_extract_input_errors_name_file_and_line(model_dir, tmp_path):  # E1-E5
    good = tmp_path / "g.txt.gz"
    with gzip.open(good, "wt", encoding="utf-8") as handle:
        for k in range(3000):
            handle.write(f"{k} 张三在北京工作。\n")
    (tmp_path / "trunc.txt.gz").write_bytes(good.read_bytes()[:2000])
    (tmp_path / "fake.txt.gz").write_bytes(b"not gzip\n")
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xff\xfe\n")
    (tmp_path / "cr.txt").write_bytes("张三在北京工作。\r李四去了上海。\n王五在广州。\n".encode())
    (tmp_path / "adir").mkdir()
    for name, pattern in [("trunc.txt.gz", r"trunc\.txt\.gz:\d+: the gzip stream ends early"),
                          ("fake.txt.gz", r"fake\.txt\.gz:1: not a gzip file"),
                          ("bad.txt", r"bad\.txt:2: expected UTF-8")]:  # fmt: skip
        code, _, err = _run("extract", model_dir, tmp_path / name, "-o", tmp_path / "o.jsonl",
                            "--workers", "1", "--no-progress")  # fmt: skip
        _one_error_line(code, err, pattern)
        assert not (tmp_path / "o.jsonl.parts").exists()  # E5: nothing blocks the corrected rerun
    code, _, err = _run("extract", model_dir, tmp_path / "cr.txt", "-o", tmp_path / "adir",
                        "--workers", "1")  # fmt: skip
    _one_error_line(code, err, "expected an output file, found the directory")
    code, _, _ = _run("extract", model_dir, tmp_path / "cr.txt", "-o", tmp_path / "cr.jsonl",
                      "--workers", "1", "--no-progress")  # fmt: skip
    rows = [json.loads(line) for line in (tmp_path / "cr.jsonl").read_text().splitlines()]
    assert code == 0 and [row["line"] for row in rows] == [1, 2]  # E3: a lone \r is no line break


def test_serve_checks_the_address_before_loading(model_dir):  # S5
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = time.perf_counter()
        code, _, err = _run("serve", model_dir, "--port", port)
    _one_error_line(code, err, rf"cannot listen on 127\.0\.0\.1:{port}: .*in use")
    assert time.perf_counter() - started < 60


def _client(predictor, **settings):
    from fastapi.testclient import TestClient

    from nerkit.server import ServerSettings, create_app

    return TestClient(create_app(predictor, ServerSettings(**settings)))


def test_non_finite_numbers_and_bad_bodies_are_422_json(model_dir):  # S1
    with _client(nerkit.load(str(model_dir))) as client:
        for body in ('{"texts": ["a"], "nbest": NaN}', '{"texts": ["a"], "x": Infinity}',
                     '{"texts": [1e400]}', '{"texts": NaN}'):  # fmt: skip
            response = client.post("/extract", content=body,
                                   headers={"content-type": "application/json"})  # fmt: skip
            assert response.status_code == 422, body
            assert isinstance(response.json()["detail"], list)


def test_docs_need_no_cdn(model_dir):  # S6
    with _client(nerkit.load(str(model_dir))) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            assert "http://" not in html and "https://" not in html
            assert "/docs-static/" in html
        assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200


class SlowPredictor:
    """A predictor whose model takes 20 ms per call, recording the texts of every call."""

    task, name, labels, temperature, metadata = "tagging", "slow", [], 1.0, {}

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict(self, texts, batch_size=64):
        time.sleep(0.02)
        self.calls.append(list(texts))
        return [[] for _ in texts]

    def info(self):
        return {}


def test_a_large_request_does_not_starve_a_small_one():  # S3
    import httpx

    from nerkit.server import ServerSettings, create_app

    predictor = SlowPredictor()
    app = create_app(predictor, ServerSettings(chunk_chars=100, max_request_chars=100_000))

    async def scenario() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            big = asyncio.create_task(client.post("/extract", json={"texts": ["x" * 100] * 30}))
            await asyncio.sleep(0.05)  # the big request is being served, chunk by chunk
            started = time.perf_counter()
            await client.post("/extract", json={"texts": ["small"]})
            small_done = time.perf_counter() - started
            await big
            return small_done, time.perf_counter() - started

    small_seconds, big_seconds = asyncio.run(scenario())
    assert small_seconds < big_seconds / 3  # served between the big one's chunks
    assert any("small" in call for call in predictor.calls[:-1])


def test_over_budget_requests_are_413(model_dir):  # S3
    with _client(nerkit.load(str(model_dir)), max_request_chars=20) as client:
        response = client.post("/extract", json={"texts": ["张三在北京工作。"] * 3})
        assert response.status_code == 413 and "at most 20 characters in all" in response.text


def test_a_body_that_stops_arriving_is_408():  # S2
    from starlette.responses import JSONResponse

    from nerkit.server.limits import BodySizeLimit

    async def app(scope, receive, send):
        await receive()
        await receive()  # waits for the rest of the body
        await JSONResponse({})(scope, receive, send)

    sent: list[dict] = []

    async def scenario() -> None:
        first = True

        async def receive():
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b"{", "more_body": True}
            await asyncio.sleep(10)
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "headers": [(b"content-length", b"100")], "method": "POST"}
        await BodySizeLimit(app, max_bytes=1000, timeout=0.1)(scope, receive, send)

    asyncio.run(scenario())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 408
