"""The classic programs: chat-server and chat-client, strictly turn by turn, on blocking sockets.

They keep the seed's screens, defaults and `exit` rule; everything they share with
the bot (the codec, errors, exit statuses, the program edge) is the foundation in
:mod:`chat`.
"""
