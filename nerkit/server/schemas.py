"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI docs)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ExtractRequest(BaseModel):
    """Texts to tag; `nbest` > 0 also asks for the n best analyses of each text (CRF models)."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(..., description="The texts to tag, one document each.")
    nbest: int = Field(0, ge=0, le=20, description="How many alternative analyses to return.")


class EntityOut(BaseModel):
    """An entity: end-exclusive character offsets into the text, label, covered text, score."""

    start: int
    end: int
    label: str
    text: str
    score: float


class Analysis(BaseModel):
    """One of the n best tag paths of a text: its probability and its entities."""

    probability: float
    entities: list[EntityOut]


class RelationOut(BaseModel):
    """A relation from entity `head` to entity `tail` (pipelines) with its probability."""

    head: EntityOut
    tail: EntityOut
    label: str
    score: float


class AttributeOut(BaseModel):
    """Attribute `name` of `entity` whose value is the text range `value` (pipelines)."""

    entity: EntityOut
    name: str
    value: EntityOut
    score: float


class ExtractResponse(BaseModel):
    """`entities[i]` are the entities of `texts[i]`; `nbest[i]` its n best analyses, if asked.

    A pipeline model (NER + relations) also returns `relations[i]` and `attributes[i]`, the
    relations between the entities of `texts[i]` and their attributes; taggers omit both.
    """

    entities: list[list[EntityOut]]
    nbest: list[list[Analysis]] | None = None
    relations: list[list[RelationOut]] | None = Field(
        None, description="Pipelines: the relations between each text's entities."
    )
    attributes: list[list[AttributeOut]] | None = Field(
        None, description="Pipelines: the attributes of each text's entities."
    )


class ClassifyRequest(BaseModel):
    """Texts to classify (classification models)."""

    model_config = ConfigDict(extra="forbid")

    texts: list[str] = Field(..., description="The texts to classify, one document each.")


class LabelOut(BaseModel):
    """A predicted class and its calibrated probability."""

    label: str
    score: float


class ClassifyResponse(BaseModel):
    """`labels[i]` are the predicted classes of `texts[i]`, most probable first."""

    labels: list[list[LabelOut]]


class HealthResponse(BaseModel):
    status: str
    model: str


class ModelResponse(BaseModel):
    """What the model predicts and how it was built (no file system paths)."""

    name: str
    task: str = "tagging"
    labels: list[str]
    tags: list[str] = Field(default_factory=list, description="Tag list (tagging models).")
    info: dict[str, Any]
    temperature: float = 1.0  # confidences are posteriors of the scores divided by this
    limits: dict[str, Any]
