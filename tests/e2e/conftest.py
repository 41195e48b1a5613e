"""The world most HTTP tests start from: an admin, a project and workers granted access."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.e2e.support import Desk, open_desk


@pytest.fixture
async def desk(api: Api) -> Desk:
    """The admin logged in on ``api``, a project, and two workers granted access to it."""
    return await open_desk(api, workers=2)
