"""The end-to-end pipeline: an NER model + a relation model saved and run as one directory.

directory.py  pipeline directories: `build_pipeline` (copies the members, pipeline.json with
              their checksums and the schema), `read_manifest`, `is_pipeline_dir`
predictor.py  `PipelinePredictor`: texts -> entities -> schema-pruned pairs -> relations;
              the NER-type / relation-label rule; `load_pipeline`
documents.py  `predict_documents`: documents cut into sentence pieces, relations and
              attributes within a piece and across nearby pieces (`extract --pair-window`)
report.py     strict and boundaries triple F1 and entity F1 on gold data

`nerkit.load(dir)` opens a pipeline directory like any model directory; the front ends
(`nerkit predict/evaluate/serve/extract`) show its relations.
"""

from nerkit.pipeline.directory import PIPELINE_FILE, build_pipeline, is_pipeline_dir

__all__ = ["PIPELINE_FILE", "build_pipeline", "is_pipeline_dir"]
