"""The FastAPI app over an already-loaded predictor of any task: routes, limits, batching.

Routes (the model's task decides which of the first two exist):
    POST /extract  tagging: {"texts": [...], "nbest": 0} -> {"entities": [[entity, ...], ...]};
                   pipeline: also "relations": [[relation, ...], ...] and "attributes"
    POST /classify classification: {"texts": [...]} -> {"labels": [[{label, score}, ...], ...]}
    GET  /health   {"status": "ok", "model": name}
    GET  /model    labels, tags, model description, confidence temperature, server limits
    GET  /docs     OpenAPI documentation (FastAPI default)

`create_app` keeps no module-level state: the thread that runs the model, the batcher
and the settings live in the closure of one app and are started and stopped by its
lifespan. All model calls run in ONE executor thread, so the event loop stays free and
the model is never used by two threads at once. No request field is ever used as a path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nerkit.errors import NerkitError
from nerkit.predict import Predictor
from nerkit.server.batching import MicroBatcher
from nerkit.server.docs import add_docs
from nerkit.server.limits import BodySizeLimit
from nerkit.server.nbest import Candidate, nbest_analyses
from nerkit.server.schemas import (
    Analysis,
    AttributeOut,
    ClassifyRequest,
    ClassifyResponse,
    EntityOut,
    ExtractRequest,
    ExtractResponse,
    HealthResponse,
    LabelOut,
    ModelResponse,
    RelationOut,
)
from nerkit.server.settings import ServerSettings
from nerkit.types import Entity

__all__ = ["create_app"]


def _chunks(texts: list[str], chars: int) -> list[list[str]]:
    """Cut a request's texts into consecutive pieces of about `chars` characters (>= 1 text)."""
    pieces: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if pieces[-1] and size + len(text) > chars:
            pieces.append([])
            size = 0
        pieces[-1].append(text)
        size += len(text)
    return pieces


def _add_error_handlers(app: FastAPI) -> None:
    """Answer user errors and invalid requests with JSON that never echoes the input.

    The default 422 body repeats the offending input, which cannot be serialised when it
    holds NaN or Infinity (the JSON parser accepts them): that turned a bad request into a
    500. Here every error is {"detail": [{"loc", "msg", "type"}]} or {"detail": "..."}.
    """

    @app.exception_handler(NerkitError)
    async def user_error(request: Request, error: NerkitError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(error)})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": list(item.get("loc", ())), "msg": str(item.get("msg", "")),
             "type": str(item.get("type", ""))}
            for item in error.errors()
        ]  # fmt: skip
        return JSONResponse(status_code=422, content={"detail": detail})


def _check_limits(request: ExtractRequest | ClassifyRequest, settings: ServerSettings) -> None:
    """Raise a 413 HTTPException when a request has too many or too long texts."""
    if len(request.texts) > settings.max_texts:
        raise HTTPException(
            status_code=413,
            detail=f"too many texts: at most {settings.max_texts} per request, "
            f"got {len(request.texts)} (split them over several requests)",
        )
    for index, text in enumerate(request.texts):
        if len(text) > settings.max_text_chars:
            raise HTTPException(
                status_code=413,
                detail=f"texts[{index}] is too long: at most {settings.max_text_chars} characters, "
                f"got {len(text)} (split long documents, or use 'nerkit extract')",
            )
    total = sum(len(text) for text in request.texts)
    if total > settings.max_request_chars:
        raise HTTPException(
            status_code=413,
            detail=f"request too large: at most {settings.max_request_chars} characters in all, "
            f"got {total} (split them over several requests, or use 'nerkit extract')",
        )


def _entities_out(entities: list[Entity]) -> list[EntityOut]:
    return [EntityOut(**entity.to_dict()) for entity in entities]


def _pipeline_response(results: list[Any]) -> ExtractResponse:
    """Return the /extract body of pipeline results: entities, relations, attributes."""
    return ExtractResponse(
        entities=[_entities_out(r.entities) for r in results],
        relations=[[RelationOut(**x.to_dict()) for x in r.relations] for r in results],
        attributes=[[AttributeOut(**x.to_dict()) for x in r.attributes] for r in results],
    )


def _analysis(candidate: Candidate) -> Analysis:
    return Analysis(probability=candidate.probability, entities=_entities_out(candidate.entities))


def _add_info_routes(app: FastAPI, predictor: Predictor, settings: ServerSettings) -> None:
    """Register GET /health and GET /model."""

    @app.get("/health")
    async def health() -> HealthResponse:
        """Say the server is up and which model it serves."""
        return HealthResponse(status="ok", model=predictor.name)

    @app.get("/model")
    async def model() -> ModelResponse:
        """Describe the model: labels, tags, encoder, scores, temperature; the request limits."""
        limits: dict[str, Any] = asdict(settings)
        return ModelResponse(
            name=predictor.name,
            task=predictor.task,
            labels=predictor.labels,
            tags=list(getattr(predictor, "tags", [])),
            info=predictor.info(),
            temperature=predictor.temperature,
            limits=limits,
        )


def create_app(predictor: Predictor, settings: ServerSettings | None = None) -> FastAPI:
    """Build the app around an already-loaded predictor; no module-level state."""
    settings = settings or ServerSettings()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nerkit-model")

    def predict(texts: list[str]) -> list[Any]:
        return predictor.predict(texts, batch_size=settings.predict_batch_size)

    batcher: MicroBatcher[Any] = MicroBatcher(
        predict, executor, max_batch=settings.max_batch, max_wait=settings.max_wait_ms / 1000
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.batching:
            batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    summary = {
        "tagging": "Entity extraction over HTTP: texts in, entities with offsets out.",
        "classification": "Text classification over HTTP: texts in, labels with scores out.",
        "pipeline": "Entity and relation extraction over HTTP: texts in, entities and the "
        "relations between them out.",
    }
    app = FastAPI(
        title="nerkit", summary=summary.get(predictor.task), lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served from local files below, not from a CDN
    )  # fmt: skip
    app.state.settings, app.state.batcher = settings, batcher
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_s
    )
    _add_error_handlers(app)
    add_docs(app)

    async def run_chunk(texts: list[str]) -> list[Any]:
        if settings.batching:
            return await batcher.submit(texts)
        return await asyncio.get_running_loop().run_in_executor(executor, predict, texts)

    async def run_model(texts: list[str]) -> list[Any]:
        # one model call per chunk: requests arriving meanwhile join the next call
        results: list[Any] = []
        for chunk in _chunks(texts, settings.chunk_chars):
            results.extend(await run_chunk(chunk))
        return results

    if predictor.task == "classification":
        _add_classify_route(app, settings, run_model)
    else:
        _add_extract_route(app, predictor, settings, run_model, executor)
    _add_info_routes(app, predictor, settings)
    return app


def _add_classify_route(app: FastAPI, settings: ServerSettings, run_model: Any) -> None:
    """Register POST /classify."""

    @app.post("/classify")
    async def classify(request: ClassifyRequest) -> ClassifyResponse:
        """Classify every text: its predicted labels with probabilities, most probable first."""
        _check_limits(request, settings)
        found = await run_model(request.texts)
        return ClassifyResponse(
            labels=[[LabelOut(label=x.label, score=x.score) for x in labels] for labels in found]
        )


def _add_extract_route(
    app: FastAPI, predictor: Predictor, settings: ServerSettings, run_model: Any, executor: Any
) -> None:
    """Register POST /extract (tagging and pipeline models)."""

    @app.post("/extract", response_model_exclude_none=True)
    async def extract(request: ExtractRequest) -> ExtractResponse:
        """Tag every text; with nbest > 0 also return its n best analyses."""
        _check_limits(request, settings)
        if request.nbest and predictor.task == "pipeline":
            raise HTTPException(status_code=422, detail="nbest is for tagging models only")
        found = await run_model(request.texts)
        if predictor.task == "pipeline":
            return _pipeline_response(found)
        response = ExtractResponse(entities=[_entities_out(entities) for entities in found])
        if request.nbest:
            loop = asyncio.get_running_loop()
            candidates = await loop.run_in_executor(
                executor, nbest_analyses, predictor, request.texts, request.nbest
            )
            response.nbest = [[_analysis(c) for c in analyses] for analyses in candidates]
        return response
