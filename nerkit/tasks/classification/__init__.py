"""Text classification: labels of whole texts (intent, sentiment, topic), single or multi-label.

config.py     the `model` section (pooling, multi-label threshold, class weights)
data.py       `TextExample` and the JSON-lines / CSV / TSV readers
model.py      `TextClassifier`: token encoder -> pooling -> linear, calibrated
metrics.py    accuracy, micro/macro F1 and per-label scores
predictor.py  `ClassificationPredictor`: texts -> labels with probabilities
task.py       the `nerkit.tasks.base` protocol
"""
