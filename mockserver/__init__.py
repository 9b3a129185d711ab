"""A local, faithful mock of the DashScope Responses API with the ``image_search`` tool.

Start it from Python::

    from aiohttp import web
    from mockserver import create_app

    app = create_app(scenario="zero_results", speed=0)

or from the shell: ``imgsearch-mock serve --port 8000``.
"""

from __future__ import annotations

from .app import RESPONSES_PATHS, create_app
from .config import DOCUMENTED_MODELS, MockConfig
from .protocol import events_from_response, response_from_events
from .scenarios import SCENARIOS, Reply, Scenario
from .sse import SSEEncoder

__all__ = [
    "DOCUMENTED_MODELS",
    "RESPONSES_PATHS",
    "SCENARIOS",
    "MockConfig",
    "Reply",
    "SSEEncoder",
    "Scenario",
    "create_app",
    "events_from_response",
    "response_from_events",
]
