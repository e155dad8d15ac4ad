"""A real OpenAI-compatible server for the writer tests: llama.cpp's own C++ server (through the
prebuilt `xllamacpp` wheel) serving a GGUF model on loopback, behind a small forwarding proxy
that can misbehave the ways hosted APIs do. The completions always come from llama.cpp; the
proxy only adds the faults and counts the requests.

    python tests/python/llama_server.py MODEL.gguf LOG [--throttle N] [--stall N --stall-secs S]
                                        [--die-after N] [--threads T] [--port P]

Prints the proxy's base URL (http://127.0.0.1:PORT/v1) on its first line once both listen, then
serves until killed. Each request to /v1/chat/completions appends one line to LOG: its status
("200", "429", "stalled", "died"). Faults, in the order requests arrive:
  --throttle N    the first N requests get HTTP 429 with `Retry-After: 0` (a rate limit burst)
  --stall N       the next N requests are held --stall-secs seconds, then answered 504
  --die-after N   after N answered requests the whole process exits, with the next request's
                  connection cut and the port closed (a server that dies mid-run)
"""
import argparse
import http.client
import http.server
import os
import socket
import sys
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("log")
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--stall-secs", type=float, default=5.0)
    ap.add_argument("--die-after", type=int, default=-1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--port", type=int, default=0, help="the proxy's port (default: any free one)")
    args = ap.parse_args()

    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = args.model
    params.n_ctx = 4096
    params.n_parallel = 2
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.port = free_port()
    params.hostnames = ["127.0.0.1"]
    server = xlc.Server(params)  # noqa: F841 (serves while referenced)
    upstream = params.port

    lock = threading.Lock()
    seen = {"requests": 0, "answered": 0}

    def log(status):
        with open(args.log, "a") as f:
            f.write(status + "\n")

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def reply(self, status, body, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                n = seen["requests"]
                seen["requests"] += 1
                dying = 0 <= args.die_after <= seen["answered"]
            if dying:
                log("died")
                os._exit(3)
            if n < args.throttle:
                log("429")
                return self.reply(429, b'{"error":{"message":"rate limited"}}', [("Retry-After", "0")])
            if n < args.throttle + args.stall:
                log("stalled")
                time.sleep(args.stall_secs)
                try:
                    return self.reply(504, b'{"error":{"message":"stalled"}}')
                except OSError:  # the client gave up waiting, as it should
                    return None
            conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=600)
            conn.request("POST", self.path, body, {"Content-Type": "application/json"})
            answer = conn.getresponse()
            data = answer.read()
            with lock:
                seen["answered"] += 1
            log(str(answer.status))
            self.reply(answer.status, data)

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Proxy)
    print(f"http://127.0.0.1:{proxy.server_address[1]}/v1", flush=True)
    proxy.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
