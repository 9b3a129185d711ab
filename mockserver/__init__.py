"""A local, faithful mock of the DashScope Responses API with the ``image_search`` tool.

Start it from Python::

    from aiohttp import web
    from mockserver import create_app

    app = create_app(scenario="zero_results", speed=0)

or in a thread, for tests (:class:`MockServer`; the pytest plugin wraps it in fixtures)::

    with MockServer() as mock:
        mock.expect(stream=True, respond=scenario().results(3).faults(close_after=5))

or from the shell: ``imgsearch-mock serve --port 8000``.
"""

from __future__ import annotations

from .app import RESPONSES_PATHS, create_app
from .config import DOCUMENTED_MODELS, MockConfig
from .custom import ScenarioBuilder, scenario
from .expect import Expectation, Match
from .faults import Delay, FaultError, Faults
from .journal import JournalEntry
from .protocol import events_from_response, response_from_events
from .scenarios import SCENARIOS, Reply, Scenario
from .sse import SSEEncoder
from .state import ExpectationError
from .testing import MockServer, Requests

__all__ = [
    "DOCUMENTED_MODELS",
    "RESPONSES_PATHS",
    "SCENARIOS",
    "Delay",
    "Expectation",
    "ExpectationError",
    "FaultError",
    "Faults",
    "JournalEntry",
    "Match",
    "MockConfig",
    "MockServer",
    "Reply",
    "Requests",
    "SSEEncoder",
    "Scenario",
    "ScenarioBuilder",
    "create_app",
    "events_from_response",
    "response_from_events",
    "scenario",
]
