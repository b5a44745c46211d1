"""Relation classification over given entity pairs (the standard RE setting), and attribute
extraction as (entity -> value) pairs on the same classifier.

config.py     the `model` section (markers, pooling, no-relation labels, pair order, targets)
data.py       Examples -> pair instances (text, head span, tail span, labels) -> marked tokens
attributes.py `model.targets: attributes`: Attributes -> (entity -> value span) relations;
              `ScoredAttribute`; value spans for a value tagger
model.py      `RelationClassifier`: token encoder over the marked tokens -> pooling at the
              markers -> linear, calibrated
metrics.py    micro/macro F1 over the real relations, per label, the SemEval-2010 Task 8
              official score and the MG-Lattice top-label F1
predictor.py  `RelationPredictor`: examples with entity spans -> scored relations, or
              scored attributes of (entity, value) pairs
task.py       the `nerkit.tasks.base` protocol
"""
