#!/usr/bin/python3
"""A TCP proxy between Kafka clients and the broker that loses Produce
responses, so idempotent producers retry batches the broker already stored.

Usage: drop_proxy.py LISTEN_PORT UPSTREAM_PORT_FILE CONTROL_DIR [OPTIONS]

The upstream (broker) port is read from UPSTREAM_PORT_FILE ("PLAINTEXT
<port>" or just "<port>") for every new connection, so the broker may be
restarted on another port.  Frames are forwarded whole; requests are matched
to responses by order (Kafka answers in order on a connection).

Options:
  --drop N,M,...  for the Nth, Mth, ... Produce request (counting from 1
                  over all connections): forward it, wait for the broker's
                  response (so the batch is stored), then close both sides
                  without passing the response on.
  --hold N        for the Nth Produce request: forward it, wait for the
                  response, write CONTROL_DIR/held, and keep the client
                  waiting (response withheld) until CONTROL_DIR/release
                  exists; then close the client side without the response.
                  The test restarts or kill -9s the broker meanwhile.

CONTROL_DIR/stats gets "produce=<n> dropped=<n>" after every event, and the
proxy exits when CONTROL_DIR/stop exists."""
import os
import socket
import struct
import sys
import threading
import time

listen_port = int(sys.argv[1])
port_file = sys.argv[2]
ctl = sys.argv[3]
drop = set()
hold = None
args = sys.argv[4:]
while args:
    a = args.pop(0)
    if a == "--drop":
        drop = {int(x) for x in args.pop(0).split(",") if x}
    elif a == "--hold":
        hold = int(args.pop(0))
    else:
        sys.exit("unknown option " + a)

lock = threading.Lock()
stats = {"produce": 0, "dropped": 0}


def write_stats():
    tmp = os.path.join(ctl, "stats.tmp")
    with open(tmp, "w") as f:
        f.write("produce=%d dropped=%d\n" % (stats["produce"], stats["dropped"]))
    os.replace(tmp, os.path.join(ctl, "stats"))


def upstream_port():
    with open(port_file) as f:
        for line in f:
            parts = line.split()
            if parts:
                return int(parts[-1])
    raise OSError("no port in " + port_file)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError()
        buf += chunk
    return bytes(buf)


def recv_frame(s):
    (n,) = struct.unpack(">i", recv_exact(s, 4))
    return struct.pack(">i", n) + recv_exact(s, n)


def close_all(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


def serve(client):
    try:
        up = socket.create_connection(("127.0.0.1", upstream_port()), timeout=10)
        up.settimeout(None)
    except OSError:
        close_all(client)
        return
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pending = []  # per request in order: None (pass) / "drop" / "hold"
    cv = threading.Condition()

    def downstream():
        try:
            while True:
                frame = recv_frame(up)
                with cv:
                    while not pending:
                        cv.wait()
                    action = pending.pop(0)
                if action is None:
                    client.sendall(frame)
                    continue
                if action == "hold":
                    open(os.path.join(ctl, "held"), "w").close()
                    while not os.path.exists(os.path.join(ctl, "release")):
                        time.sleep(0.05)
                with lock:
                    stats["dropped"] += 1
                    write_stats()
                close_all(client, up)
                return
        except (EOFError, OSError):
            close_all(client, up)

    t = threading.Thread(target=downstream, daemon=True)
    t.start()
    try:
        while True:
            frame = recv_frame(client)
            api_key = struct.unpack(">h", frame[4:6])[0]
            action = None
            if api_key == 0:
                with lock:
                    stats["produce"] += 1
                    n = stats["produce"]
                    write_stats()
                if n in drop:
                    action = "drop"
                elif hold is not None and n == hold:
                    action = "hold"
            with cv:
                pending.append(action)
                cv.notify()
            up.sendall(frame)
    except (EOFError, OSError):
        pass
    # The client went away: let the reader finish on its own (a held or
    # dropped response still has to arrive before the connection closes).
    if not any(p for p in pending):
        close_all(client, up)


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    srv.settimeout(0.2)
    with lock:
        write_stats()
    open(os.path.join(ctl, "ready"), "w").close()
    while not os.path.exists(os.path.join(ctl, "stop")):
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
