"""Fixtures every suite of this repository shares; the harness itself is the package chat_testing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the harness imports pexpect, whose pty driver Windows lacks: unit tests load without it
    from chat_testing import Programs


@pytest.fixture
def programs(chat_programs: Programs) -> Programs:
    """The plugin's ``chat_programs``, under the short name the suites use."""
    return chat_programs
