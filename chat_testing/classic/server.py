"""The classic server.py from the seed, kept exactly: only HOST and PORT come from argv.

Usage: python server.py [HOST [PORT]]   (defaults 127.0.0.1 65432, as in the seed)

The tests use it as the classic peer that ``chat-client --classic`` must chat
with. Its wire style (bare messages, no newline, one recv(1024) per turn) and
its screens are the seed's, line for line. The one addition: with PORT 0 the
listening line shows the port the system picked, so a test can read it.
"""

import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 65432

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind((HOST, PORT))
    PORT = s.getsockname()[1]  # the real port when PORT was 0 (the seed's line, made readable)
    s.listen()
    print(f"Server listening on {HOST}:{PORT}...")

    conn, addr = s.accept()
    with conn:
        print(f"Connected by {addr}")
        while True:
            data = conn.recv(1024).decode()

            if not data:
                break

            print(f"Client: {data}")

            if data.lower() == "exit":
                print("Client ended the chat.")
                break

            reply = input("Server: ")
            conn.sendall(reply.encode())

            if reply.lower() == "exit":
                print("Server ended the chat.")
                break
