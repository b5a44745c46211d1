"""The config of a tagging run: the tagger's `model` section on top of the shared sections.

`ModelConfig` is all a saved tagger needs to be rebuilt: the token encoder's settings
(`nerkit.encoders.config.TokenModelConfig`) plus the tagging scheme and the head.
`TaggingConfig` is a whole run (`task: tagging`, the default). Configs written before
the window length moved to the model (`data.max_length`) are read as `model.max_length`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from nerkit.config import RunConfig
from nerkit.encoders.config import TokenModelConfig

__all__ = ["ModelConfig", "TaggingConfig"]


class ModelConfig(TokenModelConfig):
    """The tagger: tokenization, features, encoder and window length, tagging scheme and head."""

    scheme: Literal["IOB1", "BIO", "BIOES", "BMES"] = "BIOES"
    head: Literal["crf", "softmax"] = "crf"


class TaggingConfig(RunConfig):
    """A whole tagging run: data, model and training sections."""

    task: Literal["tagging"] = "tagging"
    model: ModelConfig = ModelConfig()

    @model_validator(mode="before")
    @classmethod
    def _move_window_length(cls, raw: Any) -> Any:
        """Read an older config's `data.max_length` as `model.max_length`."""
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            return raw
        if "max_length" not in raw["data"]:
            return raw
        data = dict(raw["data"])
        length = data.pop("max_length")
        model = dict(raw.get("model") or {})
        model.setdefault("max_length", length)
        return {**raw, "data": data, "model": model}
