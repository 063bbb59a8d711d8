"""Recording a chat as a test (``chat-bot --record OUT --to HOST:PORT``), as Expect's autoexpect does.

A proxy (:mod:`bots.record.proxy`) passes every byte both ways unchanged and notes each
whole line with its side and time (:mod:`bots.record.session`, sans-IO); the writer
(:mod:`bots.record.write`, sans-IO) makes a format 1.2 dialogue of it: the test that plays
the client, and optionally the peer that plays the server. Importing this package costs
nothing: the command line imports :mod:`bots.record.options` at start-up.
"""
