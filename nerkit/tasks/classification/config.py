"""The config of a classification run: the classifier's `model` section and the whole run.

`task: classification` selects it. The model is a token encoder (any of nerkit's,
`nerkit.encoders.config.TokenModelConfig`) whose states are pooled into one vector per
text and projected to the classes. Texts longer than `max_length` tokens are truncated
(their first `max_length` tokens are read).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, PositiveInt, model_validator

from nerkit.config import RunConfig
from nerkit.encoders.config import TokenModelConfig

__all__ = ["ClassificationConfig", "ClassifierConfig"]


class ClassifierConfig(TokenModelConfig):
    """Token encoder + pooling + linear layer over the classes.

    `pooling`: `max` or `mean` over the token states, `attention` (a learned query scores
    every token; the states are averaged with those weights) or `first` (the first token).
    `multi_label`: independent sigmoids, a text gets every label whose calibrated
    probability is at least `threshold`; otherwise one softmax, one label per text.
    `fit_threshold` (multi-label): after every epoch the threshold of 0.05, 0.10, ..., 0.95
    with the best dev micro-F1 replaces `threshold` and is saved with the model.
    `class_weights`: `balanced` weighs each class's loss by N / (classes * count), for
    imbalanced data; or a mapping label -> weight. `calibrate`: after every epoch a
    temperature T is fitted on the dev texts (minimum negative log-likelihood), so that the
    saved model's probabilities are calibrated; predictions of single-label models never
    change with T.
    """

    max_length: PositiveInt = 256
    pooling: Literal["max", "mean", "attention", "first"] = "max"
    dropout: float = Field(0.3, ge=0.0, lt=1.0)  # on the pooled vector
    multi_label: bool = False
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    fit_threshold: bool = False
    class_weights: Literal["none", "balanced"] | dict[str, float] = "none"
    calibrate: bool = True

    @model_validator(mode="after")
    def _check_threshold(self) -> ClassifierConfig:
        if self.fit_threshold and not self.multi_label:
            raise ValueError("fit_threshold needs multi_label: true (a softmax has no threshold)")
        return self


class ClassificationConfig(RunConfig):
    """A whole classification run: data, model and training sections.

    `data.format` is `jsonl`, `csv` or `tsv` (`auto`, the default here: by file suffix);
    `data.text_field` and `data.label_field` name the JSON keys or column headers.
    """

    default_format: ClassVar[str] = "auto"

    task: Literal["classification"] = "classification"
    model: ClassifierConfig = ClassifierConfig()
