import socket, time
s = socket.create_connection(("127.0.0.1", 22124)); s.settimeout(3)
s.sendall(b"get ")
chunk = b"k"*(1<<20)
got=b""; err=None
try:
    for i in range(200):
        s.sendall(chunk)
except Exception as e:
    err=e
try:
    while True:
        b=s.recv(65536)
        if not b: got+=b"<EOF>"; break
        got+=b
except Exception as e:
    got += ("<%r>" % e).encode()
print("sent MB:", i, "err:", err, "got:", got)
