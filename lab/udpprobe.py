#!/usr/bin/env python3
"""udpprobe - tiny UDP reflector / prober for the Parley NAT lab (python3 stdlib only).

Every receive is bounded (<= 1 s per wait) and every exchange has a bounded number of
attempts, so a probe never hangs. Results are printed as one line of KEY=VALUE words.

  server  --bind IP:PORT [--bind IP:PORT ...] [--lifetime S]
      Reflector. "WHOAMI id" -> "ADDR id IP PORT" (the source address it saw), from the
      same socket. "POKE id VIA_IP VIA_PORT" -> "ACK id" from the same socket, and
      "POKED id" sent from the socket bound at VIA to the address the request came from
      (a STUN-like change request, used to test NAT filtering).

  whoami  --port P --server IP:PORT
      Bind 0.0.0.0:P, ask the server which public address it sees.

  nattest --port P --server A --alt B --other C --second D
      Classify the NAT in front of this host: public address seen by A and by D
      (mapping), and whether a packet from B (same IP as A, other port) and from C
      (another IP, never contacted) get in after we sent to A (filtering).

  punch   --port P --name ME --tag T [--mode prflx|advertised] [--duration S]
          (--server IP:PORT --rv DIR --peer NAME | --peer-addr IP:PORT)
      Hole punching. Learns our public address from the server, publishes it in the
      rendezvous folder DIR (shared by all namespaces, standing in for the supernode),
      waits for the peer's, then sends PUNCH to it every 100 ms and answers every PUNCH
      with PACK. With --mode prflx the answer goes to the address the PUNCH came from
      and that address becomes a send target too (a peer-reflexive candidate); with
      --mode advertised we only ever send to the address the peer published.
      Success = we received the peer's PUNCH and a PACK for ours.

Results are one line of KEY=VALUE words on stdout (yes/no/none for booleans, "-" for
nothing), easy to read from a shell script.
"""
import argparse
import os
import select
import socket
import sys
import time


def addr(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected IP:PORT, got %r" % text)
    return (host, int(port))


def fmt(a):
    return "%s:%d" % (a[0], a[1]) if a else None


def bind(port, host="0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError as e:
        die("cannot bind %s:%d: %s" % (host, port, e.strerror))
    return s


def emit(res):
    def v(x):
        if x is True:
            return "yes"
        if x is False:
            return "no"
        if x is None:
            return "none"
        if isinstance(x, list):
            return ",".join(map(str, x)) or "-"
        return str(x).replace(" ", "_")
    print(" ".join("%s=%s" % (k, v(x)) for k, x in res.items()))
    sys.stdout.flush()


def die(msg):
    emit({"error": msg})
    sys.stderr.write("udpprobe: %s\n" % msg)
    sys.exit(2)


def recv_until(sock, deadline, want):
    """Receive until want(words, src) returns a value or the deadline passes (<= 1 s)."""
    while True:
        left = min(deadline - time.monotonic(), 1.0)
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            data, src = sock.recvfrom(2048)
        except OSError:
            continue
        got = want(data.decode("ascii", "replace").split(), src)
        if got is not None:
            return got


def nonce():
    return os.urandom(4).hex()


def whoami(sock, server, attempts=3, wait=0.4):
    for _ in range(attempts):
        n = nonce()
        sock.sendto(("WHOAMI " + n).encode(), server)
        got = recv_until(sock, time.monotonic() + wait,
                         lambda w, src: (w[2], int(w[3])) if len(w) == 4 and w[:2] == ["ADDR", n] and src == server else None)
        if got:
            return got
    return None


# ---------------------------------------------------------------- server
def cmd_server(a):
    socks = {}
    for b in a.bind:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(b)
        except OSError as e:
            die("cannot bind %s: %s" % (fmt(b), e.strerror))
        socks[b] = s
    by_fd = {s.fileno(): s for s in socks.values()}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    end = time.monotonic() + a.lifetime
    while time.monotonic() < end:
        r, _, _ = select.select(list(by_fd.values()), [], [], 1.0)
        for s in r:
            try:
                data, src = s.recvfrom(2048)
            except OSError:
                continue
            w = data.decode("ascii", "replace").split()
            try:
                if len(w) == 2 and w[0] == "WHOAMI":
                    s.sendto(("ADDR %s %s %d" % (w[1], src[0], src[1])).encode(), src)
                elif len(w) == 4 and w[0] == "POKE":
                    via = socks.get((w[2], int(w[3])))
                    s.sendto(("ACK %s %s" % (w[1], "ok" if via else "novia")).encode(), src)
                    if via:
                        via.sendto(("POKED " + w[1]).encode(), src)
            except (OSError, ValueError):
                pass


# ---------------------------------------------------------------- whoami
def cmd_whoami(a):
    s = bind(a.port)
    got = whoami(s, a.server)
    emit({"local_port": a.port, "public": fmt(got)})
    return 0 if got else 1


# ---------------------------------------------------------------- nattest
def poke(sock, server, via, attempts=3, wait=0.8):
    """True if a packet sent from `via` reached us, False if the server confirmed it sent
    one and nothing arrived within `wait`, None if the server never answered."""
    for _ in range(attempts):
        n = nonce()
        sock.sendto(("POKE %s %s %d" % (n, via[0], via[1])).encode(), server)
        state = {"ack": False}

        def want(w, src):
            if w == ["POKED", n]:
                return True
            if w[:2] == ["ACK", n]:
                state["ack"] = True
            return None

        if recv_until(sock, time.monotonic() + wait, want):
            return True
        if state["ack"]:
            return False
    return None


def cmd_nattest(a):
    s = bind(a.port)
    res = {"local_port": a.port}
    res["public_a"] = fmt(whoami(s, a.server))
    # filtering first: nothing but A has been contacted from this host yet
    res["from_alt_port"] = poke(s, a.server, a.alt)
    res["from_other_ip"] = poke(s, a.server, a.other)
    res["public_d"] = fmt(whoami(s, a.second))
    emit(res)
    return 0


# ---------------------------------------------------------------- punch
def cmd_punch(a):
    t0 = time.monotonic()
    s = bind(a.port)
    res = {"name": a.name, "local_port": a.port, "mode": a.mode}
    if a.peer_addr:
        peer = a.peer_addr
        res["public"] = None
        res["server_ok"] = None
    else:
        if not (a.server and a.rv and a.peer):
            die("punch needs --peer-addr or --server, --rv and --peer")
        pub = whoami(s, a.server)
        res["public"] = fmt(pub)
        res["server_ok"] = pub is not None
        if pub is None:
            res.update(ok=False, why="server unreachable")
            emit(res)
            return 1
        mine = os.path.join(a.rv, "%s.%s" % (a.tag, a.name))
        with open(mine + ".tmp", "w") as f:
            f.write("%s %d\n" % pub)
        os.replace(mine + ".tmp", mine)
        theirs = os.path.join(a.rv, "%s.%s" % (a.tag, a.peer))
        end = time.monotonic() + 3.0
        peer = None
        while peer is None and time.monotonic() < end:
            try:
                with open(theirs) as f:
                    ip, port = f.read().split()
                    peer = (ip, int(port))
            except (OSError, ValueError):
                time.sleep(0.02)
        if peer is None:
            res.update(ok=False, why="peer never published its address")
            emit(res)
            return 1
    res["peer_advertised"] = fmt(peer)
    targets = [peer]
    seen = []           # addresses the peer's PUNCH came from
    acked_from = []     # addresses PACKs came from
    got_punch = got_pack = False
    seq = 0
    deadline = time.monotonic() + a.duration
    done_at = None
    next_send = 0.0
    while True:
        now = time.monotonic()
        if now >= deadline or (done_at is not None and now >= done_at + 0.5):
            break
        if now >= next_send:
            seq += 1
            for t in targets:
                s.sendto(("PUNCH %s %s %d" % (a.tag, a.name, seq)).encode(), t)
            next_send = now + 0.1
        r, _, _ = select.select([s], [], [], max(0.0, min(next_send, deadline) - now))
        if not r:
            continue
        try:
            data, src = s.recvfrom(2048)
        except OSError:
            continue
        w = data.decode("ascii", "replace").split()
        if len(w) != 4 or w[1] != a.tag or w[2] == a.name:
            continue
        if w[0] == "PUNCH":
            got_punch = True
            if src not in seen:
                seen.append(src)
            if a.mode == "prflx":
                if src not in targets:
                    targets.append(src)
                reply_to = src
            else:
                reply_to = peer
            s.sendto(("PACK %s %s %s" % (a.tag, a.name, w[3])).encode(), reply_to)
        elif w[0] == "PACK":
            got_pack = True
            if src not in acked_from:
                acked_from.append(src)
        if got_punch and got_pack and done_at is None:
            done_at = time.monotonic()
    res.update(got_punch=got_punch, got_pack=got_pack, ok=got_punch and got_pack,
               peer_seen_at=[fmt(x) for x in seen], pack_from=[fmt(x) for x in acked_from],
               prflx=any(x != peer for x in seen + acked_from),
               secs=round(time.monotonic() - t0, 2))
    emit(res)
    return 0 if res["ok"] else 1


def main():
    p = argparse.ArgumentParser(prog="udpprobe.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("server")
    sp.add_argument("--bind", type=addr, action="append", required=True)
    sp.add_argument("--lifetime", type=float, default=120.0)
    sp = sub.add_parser("whoami")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--server", type=addr, required=True)
    sp = sub.add_parser("nattest")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--server", type=addr, required=True)
    sp.add_argument("--alt", type=addr, required=True)
    sp.add_argument("--other", type=addr, required=True)
    sp.add_argument("--second", type=addr, required=True)
    sp = sub.add_parser("punch")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--name", required=True)
    sp.add_argument("--tag", required=True)
    sp.add_argument("--peer")
    sp.add_argument("--server", type=addr)
    sp.add_argument("--rv")
    sp.add_argument("--peer-addr", type=addr)
    sp.add_argument("--mode", choices=["prflx", "advertised"], default="prflx")
    sp.add_argument("--duration", type=float, default=2.5)
    a = p.parse_args()
    return {"server": cmd_server, "whoami": cmd_whoami, "nattest": cmd_nattest,
            "punch": cmd_punch}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
