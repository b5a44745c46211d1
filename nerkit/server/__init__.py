"""HTTP service over a loaded `Predictor`: `create_app(predictor, settings)` builds a FastAPI app.

`nerkit serve MODEL_DIR` loads the model once and runs this app with uvicorn on 127.0.0.1.
"""

from __future__ import annotations

from nerkit.server.app import create_app
from nerkit.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
