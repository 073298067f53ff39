"""Per-request breakdown of an async-profiler collapsed file of the launcher's event loop (daemonkit-io threads):
each stack goes to the deepest frame that names a kind of work (BoringSSL, a system call, buffer allocation or
release, promises, leak tracking) and to the nearest handler above it. Stacks with SslHandler or a handshake
are counted apart (the kept slices' handshakes). Used by profile-kept.sh's reports (docs/benchmarks.md)."""
import sys, re, collections
f, reqs = sys.argv[1], float(sys.argv[2])
unit = float(sys.argv[3]) if len(sys.argv) > 3 else 100.0  # us per sample (cpu), or 1 for counts
leafcats = [
 ('SSL_read', r'readFromSSL'), ('SSL_write', r'writeToSSL'), ('tcnative other', r'tcnative/SSL\.|tcnative'),
 ('k:send', r'__x64_sys_sendto|__x64_sys_writev|__x64_sys_write\b'), ('k:recv', r'__x64_sys_recvfrom|__x64_sys_read\b'),
 ('k:epoll', r'__x64_sys_epoll'), ('k:other', r'_\[k\]$'),
 ('buf alloc', r'Allocator.*\.(allocate|newDirectBuffer|directBuffer|ioBuffer|buffer)|PoolArena\.allocate|AdaptivePoolingAllocator\.allocate'),
 ('buf release', r'\.(release|deallocate|release0)$|Recycler|free'),
 ('promise', r'Promise|notifyListener'),
 ('leak detect', r'ResourceLeak'),
]
handlers = [('PlaintextMark', r'PlaintextMark'), ('RecordHandler', r'OpenSslRecordHandler'), ('SslHandler', r'SslHandler'),
 ('Echo', r'EchoHandler'), ('Decoder', r'LineBasedFrameDecoder|ByteToMessageDecoder'), ('Front', r'FrontHandler'),
 ('pipeline', r'AbstractChannelHandlerContext|DefaultChannelPipeline'), ('epoll', r'Epoll|epoll'), ('transport', r'io/netty/channel'),]
tot = collections.Counter(); n_all = 0
for line in open(f):
    stack, n = line.rstrip().rsplit(' ', 1); n = int(n)
    if not stack.startswith('[daemonkit-io'): continue
    fr = stack.split(';'); n_all += n
    if re.search(r'SslHandler|[Hh]andshake', stack): tot[('handshake','')] += n; continue
    cat = None; i = len(fr)-1
    while i > 0:
        for name, rx in leafcats:
            if re.search(rx, fr[i]): cat = name; break
        if cat: break
        i -= 1
    if cat and cat.startswith('k:') and cat == 'k:other':
        # find the syscall above
        for j in range(i, 0, -1):
            for name, rx in leafcats[3:6]:
                if re.search(rx, fr[j]): cat = name; break
            if cat != 'k:other': break
    owner = ''
    for j in range(len(fr)-1, 0, -1):
        for name, rx in handlers:
            if re.search(rx, fr[j]): owner = name; break
        if owner: break
    tot[(cat or 'java', owner)] += n
sys.stdout.reconfigure(line_buffering=True)
print(f"{f}: {n_all} loop samples, {n_all*unit/reqs:.2f} per req")
for (c, o), n in sorted(tot.items(), key=lambda x: -x[1]):
    if n*unit/reqs >= 0.05: print(f"  {c:15s} {o:14s} {n:7d} {n*unit/reqs:6.2f}")
