"""The keys under which an application keeps its parts (shared by the app, the admin API and
the test double), and the scenario names an application knows."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

from aiohttp import web

from .config import MockConfig
from .journal import JournalEntry
from .replay import CassetteLibrary
from .scenarios import SCENARIOS, Scenario
from .state import MockState

__all__ = [
    "CONFIG_KEY",
    "DEFAULT_SCENARIO_KEY",
    "ENTRY",
    "LIBRARY_KEY",
    "STATE_KEY",
    "STOPPING_KEY",
    "scenario_names",
]

CONFIG_KEY = web.AppKey("config", MockConfig)
STATE_KEY = web.AppKey("state", MockState)
STOPPING_KEY = web.AppKey("stopping", asyncio.Event)
LIBRARY_KEY = web.AppKey("cassettes", CassetteLibrary)
DEFAULT_SCENARIO_KEY = web.AppKey("default_scenario", Scenario)
#: The journal entry of the request being handled (one per task).
ENTRY: ContextVar[JournalEntry] = ContextVar("mockserver_entry")


def scenario_names(app: web.Application) -> list[str]:
    """Every name a request may choose: the built-in scenarios, then the app's cassettes."""
    library = app.get(LIBRARY_KEY)
    return [*SCENARIOS, *(library.cassettes if library is not None else ())]
