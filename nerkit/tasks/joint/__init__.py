"""Joint entity and relation extraction: one token encoder, a tagging head and a pair head.

config.py     the `model` section: a tagger's (tokenization, features, encoder, scheme, head)
              plus the pair head's (no-relation labels, type embeddings, hidden size, loss weight)
data.py       Examples -> token pieces with tags and entity pairs in token offsets
model.py      `JointModel`: a `Tagger` whose token states also feed a pair classifier
              (two entity means, the context between them, their types)
inference.py  relations between entities (given or predicted) of texts; end-to-end triples
predictor.py  the joint predictor: a pipeline predictor whose two members share the model
task.py       the `nerkit.tasks.base` protocol
"""
