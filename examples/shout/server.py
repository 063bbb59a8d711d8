"""A small chat server written in a style of its own: one thread per client, line by line.

It speaks the chat's line protocol (UTF-8 lines ending in a newline, `exit` ends the chat)
and answers every message by shouting it back; `help` lists what it understands.

    python server.py PORT [HOST]      (HOST: 127.0.0.1 unless given; 0.0.0.0 in a container)
"""

import socket
import sys
import threading


def answer(text: str) -> str:
    """The reply to one message."""
    if text.lower() == "help":
        return "I shout back what you say. Say exit to leave."
    if text.lower() == "exit":
        return "exit"
    return f"{text.upper()}!"


def serve_client(conn: socket.socket) -> None:
    """One client's chat, in its own thread."""
    with conn, conn.makefile("r", encoding="utf-8", newline="\n") as lines:
        for line in lines:
            reply = answer(line.rstrip("\r\n"))
            conn.sendall(f"{reply}\n".encode())
            if reply == "exit":
                return


def main() -> None:
    port = int(sys.argv[1])
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    with socket.create_server((host, port)) as listener:
        print(f"shout server listening on {host}:{port}", flush=True)
        while True:
            conn, _address = listener.accept()
            threading.Thread(target=serve_client, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
