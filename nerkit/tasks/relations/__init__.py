"""Relation classification over given entity pairs (the standard RE setting).

config.py     the `model` section (markers, pooling, no-relation labels, pair order)
data.py       Examples -> pair instances (text, head span, tail span, labels) -> marked tokens
model.py      `RelationClassifier`: token encoder over the marked tokens -> pooling at the
              markers -> linear, calibrated
metrics.py    micro/macro F1 over the real relations, per label, and the SemEval-2010 Task 8
              official score
predictor.py  `RelationPredictor`: examples with entity spans -> scored relations
task.py       the `nerkit.tasks.base` protocol
"""
