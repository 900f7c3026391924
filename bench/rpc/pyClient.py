# One measurement with python-libvirt: THREADS threads, each with its own connection, call OP
# in a loop for SECONDS; prints {"calls", "seconds", "lat_us": [median, p90]} as JSON.
# Usage: /usr/bin/python3 pyClient.py URI OP SECONDS THREADS DOMAIN
import json
import sys
import threading
import time

import libvirt

uri, op, seconds, threads, dom_name = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
libvirt.registerErrorHandler(lambda ctx, err: None, None)


def make_call(conn):
    dom = conn.lookupByName(dom_name)
    return {
        "getVersion": lambda: conn.getVersion(),
        "lookupByName": lambda: conn.lookupByName(dom_name),
        "getXMLDesc": lambda: dom.XMLDesc(0),
        "listAllDomains": lambda: conn.listAllDomains(0),
    }[op]


conns = [libvirt.open(uri) for _ in range(threads)]
calls = [make_call(c) for c in conns]
for f in calls:
    f()  # warm up
barrier = threading.Barrier(threads + 1)
results = [None] * threads


def worker(i):
    f = calls[i]
    lat = []
    barrier.wait()
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        f()
        lat.append(time.perf_counter() - t0)
    results[i] = lat


ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in ts:
    t.start()
barrier.wait()
start = time.perf_counter()
for t in ts:
    t.join()
elapsed = time.perf_counter() - start
lat = sorted(x for r in results for x in r)
print(json.dumps({"calls": len(lat), "seconds": elapsed, "lat_us": [lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.9)] * 1e6]}))
for c in conns:
    c.close()
