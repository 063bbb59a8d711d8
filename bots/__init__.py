"""Scripted chat bots driven by YAML dialogue files (the chat-bot program).

Sans-IO core: :mod:`bots.model` (the dialogue records), :mod:`bots.patterns`, :mod:`bots.template`
and :mod:`bots.engine` (one conversation). Reading files: :mod:`bots.loader`. Adapters and roles:
:mod:`bots.adapter` (asyncio), :mod:`bots.server` (serving), :mod:`bots.connect` (connecting, test
mode), :mod:`bots.report` (report lines, transcript, JUnit), :mod:`bots.cli` (the program).
"""

__all__: list[str] = []
