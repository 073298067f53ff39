# Opens N TLS connections to HOST:PORT, finishes each handshake, then sends the 5-byte header of an
# application-data record declaring LEN bytes and BODY bytes of it (never the rest), and holds them for HOLD
# seconds. Prints how many the server left open 2 s after the last one. Used by benchmarks/tls-record-flood.sh.
#   python3 record-flood.py HOST PORT N HOLD [LEN [BODY]]
import socket, ssl, sys, time
host, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
length = int(sys.argv[5]) if len(sys.argv) > 5 else 16384
body = int(sys.argv[6]) if len(sys.argv) > 6 else 0
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
socks = []
for i in range(n):
    s = socket.create_connection((host, port))
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    while True:
        try:
            obj.do_handshake(); break
        except ssl.SSLWantReadError:
            data = out.read()
            if data: s.sendall(data)
            inc.write(s.recv(65536))
    data = out.read()
    if data: s.sendall(data)
    s.sendall(bytes([0x17, 0x03, 0x03, length >> 8, length & 0xff]) + bytes(body))
    socks.append(s)
time.sleep(2)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        while True:
            d = s.recv(65536)  # the server's session tickets, then EOF if it closed
            if d == b'':
                break
    except BlockingIOError:
        alive += 1
    except OSError:
        pass
print(f"{n} connections sent a header of a {length}-byte record and {body} bytes of it; {alive} still open", flush=True)
time.sleep(hold)
