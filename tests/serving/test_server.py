"""The HTTP API over a real tiny model: routes, limits, errors, and the micro-batcher."""

from __future__ import annotations

import asyncio
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from models.tiny import EXAMPLES, gold_entities

from nerkit.errors import ConfigError, NerkitError
from nerkit.server import ServerSettings, create_app
from nerkit.server.batching import MicroBatcher

TEXTS = [example.text for example in EXAMPLES]


def _triples(entities: list[dict]) -> list[tuple[int, int, str]]:
    return [(e["start"], e["end"], e["label"]) for e in entities]


def _same(found: list[list[dict]], expected: list[list[dict]]) -> bool:
    """Return True when entities agree exactly and scores to 1e-5 (batch padding moves floats)."""
    keys = ("start", "end", "label", "text")
    strip = [[tuple(e[k] for k in keys) for e in doc] for doc in found]
    if strip != [[tuple(e[k] for k in keys) for e in doc] for doc in expected]:
        return False
    scores = [e["score"] for doc in found for e in doc]
    return scores == pytest.approx([e["score"] for doc in expected for e in doc], abs=1e-5)


@pytest.mark.parametrize("batching", [True, False])
def test_extract_returns_entities_with_offsets(predictor, batching):
    app = create_app(predictor, ServerSettings(batching=batching))
    with TestClient(app) as client:
        response = client.post("/extract", json={"texts": [*TEXTS, ""]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"entities"}
    assert [_triples(e) for e in body["entities"]] == [*gold_entities(), []]
    for text, entities in zip(TEXTS, body["entities"]):
        for entity in entities:
            assert text[entity["start"] : entity["end"]] == entity["text"]
            assert 0.0 <= entity["score"] <= 1.0


def test_http_results_equal_the_predictor(predictor):
    expected = [[e.to_dict() for e in found] for found in predictor.predict(TEXTS)]
    with TestClient(create_app(predictor)) as client:
        assert _same(client.post("/extract", json={"texts": TEXTS}).json()["entities"], expected)


def test_health_model_and_openapi(predictor, model_dir):
    with TestClient(create_app(predictor)) as client:
        assert client.get("/health").json() == {"status": "ok", "model": "model"}
        model = client.get("/model")
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200
    body = model.json()
    assert body["labels"] == ["LOC", "ORG", "PER"]
    assert body["info"]["encoder"] == "bilstm"
    assert body["limits"]["max_texts"] == 256
    assert str(model_dir) not in model.text  # no file system path leaks out


def test_nbest_gives_probable_alternatives_best_first(predictor):
    with TestClient(create_app(predictor)) as client:
        response = client.post("/extract", json={"texts": [TEXTS[0], ""], "nbest": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    first, empty = body["nbest"]
    assert len(first) == 3 and empty == [{"probability": 1.0, "entities": []}]
    probabilities = [analysis["probability"] for analysis in first]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001
    assert _triples(first[0]["entities"]) == _triples(body["entities"][0])


def test_nbest_refuses_texts_longer_than_one_window(predictor):
    with TestClient(create_app(predictor)) as client:
        response = client.post("/extract", json={"texts": ["张三" * 20], "nbest": 2})
    assert response.status_code == 422
    assert "at most 24 tokens" in response.json()["detail"]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"texts": ["a"] * 5}, 413, "too many texts: at most 4 per request, got 5"),
        ({"texts": ["ok", "x" * 51]}, 413, r"texts\[1\] is too long: at most 50 characters"),
        ({"texts": "张三"}, 422, "list"),
        ({"text": ["张三"]}, 422, "texts"),
        ({"texts": ["a"], "nbest": -1}, 422, "greater than or equal to 0"),
    ],
)
def test_bad_requests_get_clear_4xx_errors(predictor, payload, status, message):
    settings = ServerSettings(max_texts=4, max_text_chars=50)
    with TestClient(create_app(predictor, settings)) as client:
        response = client.post("/extract", json=payload)
    assert response.status_code == status
    assert re.search(message, response.text), response.text


def test_body_size_limit_on_content_length_and_on_a_stream(predictor):
    settings = ServerSettings(max_body_bytes=200)
    with TestClient(create_app(predictor, settings)) as client:
        declared = client.post("/extract", json={"texts": ["张三" * 100]})
        small = client.post("/extract", json={"texts": ["张三"]})
        chunks = [b'{"texts": ["', *[b"x" * 50] * 10, b'"]}']
        streamed = client.post("/extract", content=iter(chunks))  # chunked, no Content-Length
    assert declared.status_code == 413 and "at most 200 bytes" in declared.json()["detail"]
    assert small.status_code == 200
    assert streamed.status_code == 413 and "at most 200 bytes" in streamed.json()["detail"]


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="max_batch must be a positive integer, got 0"):
        ServerSettings(max_batch=0)


def test_concurrent_requests_are_batched_and_routed_to_their_senders(predictor):
    # Many clients at once, each with its own texts: the answers must equal one-by-one
    # prediction, and the batcher must have needed fewer model calls than requests.
    rng = random.Random(7)
    pool = [*TEXTS, "", "张三和李四在上海。", "Alice met Bob in London."]
    requests = [rng.sample(pool, rng.randint(1, 4)) for _ in range(40)]
    expected = [[[e.to_dict() for e in found] for found in predictor.predict(r)] for r in requests]
    app = create_app(predictor, ServerSettings(max_batch=16, max_wait_ms=20))

    async def drive() -> list[dict]:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
            app.router.lifespan_context(app),
        ):
            replies = await asyncio.gather(
                *(client.post("/extract", json={"texts": texts}) for texts in requests)
            )
        return [reply.json()["entities"] for reply in replies]

    found = asyncio.run(drive())
    assert all(_same(f, e) for f, e in zip(found, expected, strict=True))
    assert app.state.batcher.calls < len(requests)


def test_a_failing_text_fails_only_its_own_request():
    # A predict function that fails on one text: the batch it shares is retried request
    # by request, so the other requests still get their results.
    def predict(texts: list[str]) -> list[str]:
        if "bad" in texts:
            raise NerkitError("cannot tag 'bad'")
        return [text.upper() for text in texts]

    async def drive() -> list[object]:
        batcher = MicroBatcher(predict, ThreadPoolExecutor(1), max_batch=8, max_wait=0.05)
        batcher.start()
        jobs = [["a", "b"], ["bad"], ["c"]]
        results = await asyncio.gather(*(batcher.submit(j) for j in jobs), return_exceptions=True)
        await batcher.stop()
        return [*results, batcher.calls]

    ok_first, failed, ok_last, calls = asyncio.run(drive())
    assert ok_first == ["A", "B"] and ok_last == ["C"]
    assert isinstance(failed, NerkitError)
    assert calls == 4  # one shared call, then each of the three requests alone


def test_a_request_larger_than_max_batch_runs_alone_and_whole():
    sizes: list[int] = []
    lock = threading.Lock()

    def predict(texts: list[str]) -> list[int]:
        with lock:
            sizes.append(len(texts))
        return [len(text) for text in texts]

    async def drive() -> list[list[int]]:
        batcher = MicroBatcher(predict, ThreadPoolExecutor(1), max_batch=4, max_wait=0.05)
        batcher.start()
        results = await asyncio.gather(batcher.submit(["aa"] * 10), batcher.submit(["b"]))
        await batcher.stop()
        return list(results)

    assert asyncio.run(drive()) == [[2] * 10, [1]]
    assert sorted(sizes) == [1, 10]


def test_without_a_wait_requests_arriving_while_the_model_works_share_the_next_call():
    # max_wait=0: the first request runs at once, alone; the ones submitted while it runs
    # are gathered into one call as soon as the model is free.
    started, release = threading.Event(), threading.Event()
    sizes: list[int] = []

    def predict(texts: list[str]) -> list[str]:
        sizes.append(len(texts))
        if len(sizes) == 1:
            started.set()
            release.wait(timeout=10)
        return [text.upper() for text in texts]

    async def drive() -> list[list[str]]:
        batcher = MicroBatcher(predict, ThreadPoolExecutor(1), max_batch=8, max_wait=0.0)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        later = [asyncio.ensure_future(batcher.submit([text])) for text in "bcd"]
        await asyncio.sleep(0.05)  # the three are queued while the model is still busy
        release.set()
        results = await asyncio.gather(first, *later)
        await batcher.stop()
        return list(results)

    assert asyncio.run(drive()) == [["A"], ["B"], ["C"], ["D"]]
    assert sizes == [1, 3]
