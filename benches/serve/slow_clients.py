"""Slow clients for benches/serve_load.sh: N connections to a SPARQL endpoint that each send a
request one byte a second, half stalling in the headers and half in a declared 100 KB body,
and reconnect whenever the server hangs up on them. Runs until killed; on SIGTERM prints a
JSON line: how many connections were opened, and how the server ended them.

usage: slow_clients.py HOST:PORT N
"""
import json
import signal
import socket
import sys
import threading
import time

host, port = sys.argv[1].rsplit(":", 1)
count = int(sys.argv[2])
stats = {"connections": 0, "closed_by_server": 0, "status_lines": {}}
lock = threading.Lock()

HEADERS = (
    "POST /query HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/sparql-query\r\n"
    "Content-Length: 100000\r\n\r\n"
)


def slow(in_body):
    while True:
        try:
            sock = socket.create_connection((host, int(port)), timeout=120)
        except OSError:
            time.sleep(1)
            continue
        with lock:
            stats["connections"] += 1
        head = HEADERS.format(host=host).encode()
        try:
            if in_body:
                sock.sendall(head)
                payload = b"A" * 100000
            else:
                payload = head
            for i in range(len(payload)):
                sock.sendall(payload[i : i + 1])
                time.sleep(1)
        except OSError:
            pass
        try:
            sock.settimeout(5)
            reply = sock.recv(200).decode("latin-1")
        except OSError:
            reply = ""
        status = reply.split("\r\n", 1)[0] or "(closed)"
        with lock:
            stats["closed_by_server"] += 1
            stats["status_lines"][status] = stats["status_lines"].get(status, 0) + 1
        sock.close()


def finish(*_):
    with lock:
        print(json.dumps(stats), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, finish)
for i in range(count):
    threading.Thread(target=slow, args=(i % 2 == 1,), daemon=True).start()
while True:
    time.sleep(1)
