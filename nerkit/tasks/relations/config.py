"""The config of a relation run: the relation classifier's `model` section and the whole run.

`task: relations` selects it. Entities are given (gold spans at training and evaluation, the
user's spans at prediction): the model classifies the relation of an entity pair. The text is
tokenised, marker tokens are inserted around the two entities and a token encoder (any of
nerkit's, `nerkit.encoders.config.TokenModelConfig`) reads the marked tokens.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from nerkit.config import RunConfig
from nerkit.encoders.config import TokenModelConfig

__all__ = ["DEFAULT_NO_RELATION", "RelationModelConfig", "RelationsConfig"]

# the labels datasets use for "no relation" (FinRE unknown, SemEval Other, DeepKE None)
DEFAULT_NO_RELATION = ("no_relation", "Other", "unknown", "None", "NA")


class RelationModelConfig(TokenModelConfig):
    """Entity markers + token encoder + pooling at the markers + linear layer.

    `markers`: `untyped` inserts "<e1>" "</e1>" around the head and "<e2>" "</e2>" around the
    tail; `typed` writes the span labels the input carries into them ("<e1:PER>"), which is
    honest only when those labels are not derived from the gold relation (see
    docs/relations.md); `symbols` puts "$" around the head and "#" around the tail (R-BERT,
    Wu & He 2019): characters a BERT vocabulary holds as single pieces. With a BERT-style
    encoder the `untyped` and `typed` markers of the training pairs become new pieces of its
    tokenizer (`nerkit.encoders.added_pieces`), so that "<e1>" and "<e2>" are not split into
    pieces that both begin with "<".
    `pooling`: `entity_start` concatenates the token states at the two
    start markers (Baldini Soares et al. 2019); `entity_mean` the means over the two entities'
    tokens; `entity_start_max` adds the maximum over every token state of the sentence
    (the max pooling of BiLSTM relation models, Zhang et al. 2015) to the two start states;
    `entity_start_attention` adds an attention-weighted mean of them instead (a learned query
    scores every token, as in Att-BLSTM, Zhou et al. 2016).
    `no_relation`: the labels that mean "no relation" where they occur; scores exclude
    them and the predictor returns no relation for them. `pair_order`: `annotated` classifies
    each pair in the direction the data gives it (DeepKE, FinRE: the user names head and
    tail); `text` classifies each pair once, first entity as e1, and the direction becomes part
    of the label, "Cause-Effect(e2,e1)" (SemEval: the direction is predicted). `negative_pairs`:
    the unannotated ordered pairs of an example with relations, of entity types the training
    schema links, become no-relation instances (training and evaluation). `multi_label`:
    independent sigmoids, a pair holds every label at or above `threshold` (FinRE); else one
    softmax. `fit_threshold` (multi-label): after every epoch the threshold of 0.05, 0.10, ...,
    0.95 with the best dev micro-F1 replaces `threshold` and is saved with the model.
    `calibrate`: a temperature fitted on dev after every epoch. `targets`:
    `relations` classifies the examples' relations; `attributes` turns each `Attribute` into
    an (entity span -> value span) pair labelled with the attribute name, the value marked as
    e2 (`nerkit.tasks.relations.attributes`; needs `pair_order: annotated`).
    """

    markers: Literal["untyped", "typed", "symbols"] = "untyped"
    pooling: Literal[
        "entity_start", "entity_mean", "entity_start_max", "entity_start_attention"
    ] = "entity_start"
    no_relation: tuple[str, ...] = DEFAULT_NO_RELATION
    pair_order: Literal["annotated", "text"] = "annotated"
    negative_pairs: bool = False
    multi_label: bool = False
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    fit_threshold: bool = False
    dropout: float = Field(0.3, ge=0.0, lt=1.0)  # on the pooled pair vector
    calibrate: bool = True
    targets: Literal["relations", "attributes"] = "relations"

    @model_validator(mode="after")
    def _check_no_relation(self) -> RelationModelConfig:
        if self.fit_threshold and not self.multi_label:
            raise ValueError("fit_threshold needs multi_label: true (a softmax has no threshold)")
        if not self.no_relation:
            raise ValueError(
                "no_relation is empty: expected at least one label name for pairs without a "
                "relation (the default is no_relation, Other, unknown, None, NA)"
            )
        if self.max_length < 8:
            raise ValueError(
                f"max_length {self.max_length} is too short for two entities and their four "
                "markers (use at least 8)"
            )
        if self.targets == "attributes" and self.pair_order != "annotated":
            raise ValueError(
                "targets: attributes classifies (entity -> value) pairs in that direction; "
                f"set pair_order: annotated (found {self.pair_order!r})"
            )
        return self


class RelationsConfig(RunConfig):
    """A whole relation run: data, model and training sections.

    `data.format` names a reader of `nerkit.data.formats` whose examples carry relations:
    `deepke-re`, `finre`, `semeval`, `jsonl`, `doccano`, `label-studio`, `brat`; with
    `model.targets: attributes`, one whose examples carry attributes (`deepke-ae`, `jsonl`).
    """

    default_format: ClassVar[str] = "jsonl"

    task: Literal["relations"] = "relations"
    model: RelationModelConfig = RelationModelConfig()
