"""Dialogue coverage (``chat-bot --coverage`` and ``--coverage-report``): what the chats used, and what never.

In the manner of coverage.py: each process writes its own data file
(:mod:`bots.coverage.data`), the files are combined when reported, and the report
(:mod:`bots.coverage.report`, :mod:`bots.coverage.html`) shows, per dialogue file, the
``file:line`` of each rule, alternative, topic, redirect, fallback, remembered reply
and script step no chat used. Importing this package costs nothing: the command line
imports :mod:`bots.coverage.options` at start-up.
"""
