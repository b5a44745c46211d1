"""The config of a joint run: the tagger's `model` section plus the pair head's settings.

`task: joint` selects it. The model finds the entities (its tagging head) and classifies the
relation of every ordered pair of them whose entity types the training schema links (its
pair head), from one pass of one token encoder; no entity markers are inserted, so the
encoder reads each text once whatever its number of pairs.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from nerkit.config import RunConfig
from nerkit.tasks.relations.config import DEFAULT_NO_RELATION
from nerkit.tasks.tagging.config import ModelConfig

__all__ = ["JointConfig", "JointModelConfig"]


class JointModelConfig(ModelConfig):
    """A tagger (`ModelConfig`) whose token states also feed a pair classifier.

    A pair (head entity, tail entity) is classified from the mean token state of each
    entity, the maximum over the token states between them (zeros for adjacent entities)
    and a `type_dim`-wide embedding of each entity's type, through one hidden layer of
    `pair_hidden` units (ReLU, `pair_dropout`) into the relation classes and a no-relation
    class. `no_relation`: the labels that mean "no relation" (the class of the schema-allowed
    pairs the data leaves unannotated is the first of them the data uses, else the first).
    `relation_weight` scales the pair loss against the tagging loss.
    """

    no_relation: tuple[str, ...] = DEFAULT_NO_RELATION
    type_dim: int = Field(32, ge=0)
    pair_hidden: int = Field(256, ge=1)
    pair_dropout: float = Field(0.3, ge=0.0, lt=1.0)
    relation_weight: float = Field(1.0, gt=0.0)
    calibrate: bool = True


class JointConfig(RunConfig):
    """A whole joint run. `data.format` names a reader whose examples carry typed entity
    spans and relations between them (`jsonl`, `doccano`, `label-studio`, `brat`, ...)."""

    default_format: ClassVar[str] = "jsonl"

    task: Literal["joint"] = "joint"
    model: JointModelConfig = JointModelConfig()
