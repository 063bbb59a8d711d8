"""The classic client.py from the seed, kept exactly: only HOST and PORT come from argv.

Usage: python client.py [HOST [PORT]]   (defaults 127.0.0.1 65432, as in the seed)

The tests use it as the classic peer that ``chat-server`` must chat with. Its
wire style (bare messages, no newline, one recv(1024) per turn) and its
screens are the seed's, line for line.
"""

import socket
import sys

HOST = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 65432

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    print("Connected to server. Type 'exit' to quit.")

    while True:
        message = input("Client: ")
        s.sendall(message.encode())

        if message.lower() == "exit":
            print("Client ended the chat.")
            break

        data = s.recv(1024).decode()
        print(f"Server: {data}")

        if data.lower() == "exit":
            print("Server ended the chat.")
            break
