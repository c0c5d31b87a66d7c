#!/usr/bin/env python3
"""Captures EPMD and distribution traffic between two real Erlang nodes and
writes seed corpora from it. Usage: capture.py ERL OUT_DIR TAG

A recording proxy sits in front of a private `epmd`. It rewrites the port in
PORT2_RESP so that the connecting node dials a second recording proxy in
front of the accepting node: both directions of the handshake and of the
connected phase are captured byte for byte. Loopback only.
"""
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time

ERL, OUT, TAG = sys.argv[1], sys.argv[2], sys.argv[3]
EPMD = os.path.join(os.path.dirname(os.path.realpath(ERL)), "epmd")
if not os.path.exists(EPMD):
    EPMD = "epmd"
HOST = socket.gethostname().split(".")[0]


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


def free_port():
    s = listener()
    port = s.getsockname()[1]
    s.close()
    return port


class Pipe:
    """Forwards one connection to `target`, recording both directions."""

    def __init__(self, client, target, rewrite=None):
        self.up, self.down = bytearray(), bytearray()
        self.client = client
        self.server = socket.create_connection(("127.0.0.1", target))
        self.rewrite = rewrite
        self.threads = [
            threading.Thread(target=self.pump, args=(client, self.server, self.up), daemon=True),
            threading.Thread(target=self.pump, args=(self.server, client, self.down), daemon=True),
        ]
        for t in self.threads:
            t.start()

    def pump(self, src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.rewrite and record is self.down:
                    data = self.rewrite(self, data)
                record.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(sock, target, pipes, rewrite=None):
    def loop():
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return
            pipes.append(Pipe(client, target, rewrite))

    threading.Thread(target=loop, daemon=True).start()


dist_pipes, epmd_pipes = [], []
epmd_port = free_port()
dist_proxy = listener()
dist_target = {}


def rewrite_port2(pipe, data):
    # PORT2_RESP: 119, 0, u16 port, ...: send the dialler to our proxy.
    if pipe.up[2:3] == b"\x7a":
        if data[:2] == b"\x77\x00" and len(data) >= 4:
            dist_target["port"] = struct.unpack(">H", data[2:4])[0]
            serve(dist_proxy, dist_target["port"], dist_pipes)
            data = data[:2] + struct.pack(">H", dist_proxy.getsockname()[1]) + data[4:]
    return data


epmd = subprocess.Popen([EPMD, "-port", str(epmd_port), "-relaxed_command_check"])
time.sleep(0.5)
epmd_proxy = listener()
serve(epmd_proxy, epmd_port, epmd_pipes, rewrite_port2)
env = dict(os.environ, ERL_EPMD_PORT=str(epmd_proxy.getsockname()[1]))

a_name, b_name = f"fuzzseed_a_{TAG}", f"fuzzseed_b_{TAG}"
a = subprocess.Popen(
    [ERL, "-sname", a_name, "-setcookie", "seed", "-noshell", "-eval",
     "register(sink, spawn(fun Loop() -> receive _ -> Loop() end end))."],
    env=env,
)
time.sleep(2)
script = f"""
    A = '{a_name}@{HOST}',
    pong = net_adm:ping(A),
    {{sink, A}} ! {{hello, self(), make_ref(), "text", <<1,2,3>>, #{{k => 1.5}}}},
    x = erpc:call(A, erlang, list_to_atom, ["x"]),
    R = erlang:monitor(process, {{nosuch, A}}),
    receive {{'DOWN', R, _, _, _}} -> ok after 2000 -> ok end,
    P = spawn_link(A, erlang, apply, [fun() -> receive stop -> ok end end, []]),
    unlink(P),
    exit(P, kill),
    {{sink, A}} ! lists:duplicate(40, {{atom_a, atom_b, 'ünïcode'}}),
    timer:sleep(300),
    halt().
"""
subprocess.run([ERL, "-sname", b_name, "-setcookie", "seed", "-noshell", "-eval", script],
               env=env, timeout=30, check=True)
for args in (["-names"], ["-dump"], ["-stop", "nosuch"], ["-kill"]):
    subprocess.run([EPMD, "-port", str(epmd_proxy.getsockname()[1])] + args,
                   capture_output=True, timeout=10)
time.sleep(0.5)
a.kill()
a.wait()
epmd.kill()
epmd.wait()
time.sleep(0.3)


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{TAG}_{name}"), "wb") as f:
        f.write(bytes(data))


# ---- EPMD: requests (server side) and replies (client side)
reply_kind = {120: 0, 122: 1, 110: 2, 100: 3, 107: 4, 115: 5}
all_requests = bytearray()
for i, p in enumerate(epmd_pipes):
    if len(p.up) < 3 or p.up[2] not in reply_kind:
        continue
    n = 2 + struct.unpack(">H", p.up[:2])[0]
    req = p.up[:n]
    all_requests.extend(req)
    write("epmd_request", f"{i}_{p.up[2]}", req)
    if p.down:
        write("epmd_reply", f"{i}_{p.up[2]}", bytes([reply_kind[p.up[2]]]) + p.down)
write("epmd_request", "all", all_requests)


# ---- Distribution
def frames(stream, short_until):
    """Splits a stream into (is_handshake, frame) pairs: u16 frames until
    the handshake message tagged `short_until`, u32 frames afterwards."""
    stream = bytes(stream)
    out, i, short = [], 0, True
    while i < len(stream):
        size = 2 if short else 4
        if i + size > len(stream):
            break
        n = int.from_bytes(stream[i:i + size], "big")
        frame = stream[i + size:i + size + n]
        out.append((short, stream[i:i + size + n], frame))
        if short and frame[:1] == short_until:
            short = False
            rest_at = i + size + n
        i += size + n
    return out, stream[rest_at:] if not short else b""


def header_len(b):
    """The length of the atom cache header at the start of `b`."""
    count = b[0]
    if count == 0:
        return 1
    flags = b[1:2 + count // 2]
    nibble = lambda k: (flags[k // 2] >> (4 * (k % 2))) & 0x0F
    long_atoms = nibble(count) & 1
    i = 2 + count // 2
    for k in range(count):
        i += 1
        if nibble(k) & 0x08:
            n = int.from_bytes(b[i:i + 1 + long_atoms], "big")
            i += 1 + long_atoms + n
    return i


def md5(cookie, challenge):
    return hashlib.md5(cookie + str(challenge).encode()).digest()


seen_headers = set()
for i, p in enumerate(dist_pipes):
    up, up_rest = frames(p.up, b"r")
    down, down_rest = frames(p.down, b"a")
    hs_up = [f for short, _, f in up if short]
    hs_down = [f for short, _, f in down if short]
    # Handshake messages, by codec (see dist_proto::fuzzing::handshake_message).
    for f in hs_up + hs_down:
        kind = {b"N": 0 if f in hs_up else 3, b"n": 1, b"s": 2, b"c": 4, b"r": 5, b"a": 6}.get(f[:1])
        if kind is not None:
            write("handshake_message", f"{i}_{chr(f[0])}_{'up' if f in hs_up else 'down'}", bytes([kind]) + f)
    # The acceptor's view (name "b@h", challenge 7, cookie "c"): the real
    # send_name, then a challenge reply with the right digest for it.
    send_name = next(f for f in hs_up if f[:1] == b"N")
    reply = b"r" + struct.pack(">I", 11) + md5(b"c", 7)
    write("handshake_acceptor", f"{i}_real", p.up[: 2 + len(send_name)])
    write("handshake_acceptor", f"{i}_complete",
          struct.pack(">H", len(send_name)) + send_name + struct.pack(">H", len(reply)) + reply)
    write("handshake_acceptor", f"{i}_whole_session", p.up)
    # The initiator's view (dials "b@h", challenge 7, cookie "c").
    chal = next(f for f in hs_down if f[:1] == b"N")
    flags, _, creation = struct.unpack(">QII", chal[1:17])
    chal = b"N" + struct.pack(">QIIH", flags, 5, creation, 3) + b"b@h"
    ack = b"a" + md5(b"c", 7)
    msgs = [b"sok", chal, ack]
    write("handshake_initiator", f"{i}_complete", b"".join(struct.pack(">H", len(m)) + m for m in msgs))
    write("handshake_initiator", f"{i}_real", p.down[: sum(2 + len(f) for f in hs_down)])
    write("handshake_initiator", f"{i}_alive", struct.pack(">H", 6) + b"salive")
    # Connected phase: header frames (mode 0: one byte at a time; 254: 128).
    for direction, rest, fs in (("up", up_rest, up), ("down", down_rest, down)):
        write("dist_connection", f"{i}_{direction}_bytewise", b"\x00" + rest)
        write("dist_connection", f"{i}_{direction}_chunked", b"\xfe" + rest)
        for j, (short, raw, f) in enumerate(fs):
            if short or len(f) < 3 or f[:2] != b"\x83\x44":
                continue
            header = f[2:2 + header_len(f[2:])]
            if header not in seen_headers and len(seen_headers) < 12:
                seen_headers.add(header)
                write("atom_cache_header", f"{i}_{direction}_{j}", header)
            if len(f) > 40 and "frag" not in dist_target:
                # The same message as three fragments (ids 3, 2, 1).
                # The header stays whole in the first fragment.
                dist_target["frag"] = True
                body = f[2:]
                start = header_len(body)
                cut1 = start + (len(body) - start) // 3
                cut2 = start + 2 * (len(body) - start) // 3
                parts = [b"\x83\x45" + struct.pack(">QQ", 9, 3) + body[:cut1],
                         b"\x83\x46" + struct.pack(">QQ", 9, 2) + body[cut1:cut2],
                         b"\x83\x46" + struct.pack(">QQ", 9, 1) + body[cut2:]]
                write("dist_connection", f"{i}_fragmented",
                      b"\x00" + b"".join(struct.pack(">I", len(x)) + x for x in parts))
print(f"captured {len(epmd_pipes)} EPMD and {len(dist_pipes)} distribution connections")
