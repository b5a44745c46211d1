"""The settings of one server: micro-batching and request limits, validated and frozen."""

from __future__ import annotations

from dataclasses import dataclass

from nerkit.defaults import BATCH_SIZE
from nerkit.errors import ConfigError


@dataclass(frozen=True)
class ServerSettings:
    """How a server batches work and which requests it refuses.

    Attributes:
        batching: Gather texts of concurrent requests into one `predict` call.
        max_batch: Most texts in one gathered call (a larger request runs alone).
        max_wait_ms: Longest time the first request of a batch waits for company. The
            default 0 sends a batch as soon as the model is free: requests that arrive while
            it works form the next batch, so an idle server adds no latency and a busy one
            still batches (docs/serving.md has the measurements).
        max_texts: Most texts in one request.
        max_text_chars: Most characters in one text.
        max_request_chars: Most characters in one request, all texts together: the compute
            budget of one request, so that no client holds the model for long.
        chunk_chars: A request is run in pieces of about this many characters, each a
            separate model call, so small requests that arrive meanwhile are served between
            the pieces of a large one instead of after all of it.
        max_body_bytes: Largest request body, checked on Content-Length and while streaming.
        body_timeout_s: Longest wait for the rest of a request body once it has begun.
        predict_batch_size: Batch size the predictor uses inside one call.
    """

    batching: bool = True
    max_batch: int = 64
    max_wait_ms: float = 0.0
    max_texts: int = 256
    max_text_chars: int = 10_000
    max_request_chars: int = 200_000
    chunk_chars: int = 8_000
    max_body_bytes: int = 2_000_000
    body_timeout_s: float = 10.0
    predict_batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        names = ("max_batch", "max_texts", "max_text_chars", "max_request_chars", "chunk_chars",
                 "max_body_bytes")  # fmt: skip
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"server setting {name} must be a positive integer, got {value!r}"
                )
        if self.predict_batch_size < 1:
            raise ConfigError(
                "server setting predict_batch_size must be positive, "
                f"got {self.predict_batch_size!r}"
            )
        if not 0 < self.body_timeout_s <= 600:
            raise ConfigError(
                "server setting body_timeout_s must be in (0, 600] seconds, "
                f"got {self.body_timeout_s!r}"
            )
        if not 0 <= self.max_wait_ms <= 10_000:
            raise ConfigError(
                f"server setting max_wait_ms must be between 0 and 10000, got {self.max_wait_ms!r}"
            )
