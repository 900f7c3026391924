#!/usr/bin/python3
# The libvirtd side of bench/lifecycle (run by lifecycle.ts with /usr/bin/python3, which has
# python3-libvirt): define→running, create()→running, destroy, and N concurrent starts (one
# connection per thread) of the given domain XML on qemu:///system. Prints JSON seconds.
import json
import sys
import threading
import time

import libvirt

PREFIX = 'tsvirt-bench-lv'


def named(base, name):
    return base.replace(f'<name>{PREFIX}</name>', f'<name>{name}</name>')


def cleanup(conn):
    # Every domain this bench names, left over or not.
    for d in conn.listAllDomains():
        if d.name().startswith(PREFIX):
            if d.isActive():
                d.destroy()
            d.undefine()


def main():
    xml_file, runs, concurrent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    base = open(xml_file).read()
    conn = libvirt.open('qemu:///system')
    cleanup(conn)
    res = {'start': [], 'create': [], 'destroy': [], 'concurrent': []}
    try:
        for i in range(runs + 1):
            t0 = time.perf_counter()
            dom = conn.defineXML(named(base, f'{PREFIX}{i}'))
            t1 = time.perf_counter()
            dom.create()
            t2 = time.perf_counter()
            dom.destroy()
            t3 = time.perf_counter()
            dom.undefine()
            if i == 0:
                continue  # warm-up, as on the tsvirt side
            res['start'].append(t2 - t0)
            res['create'].append(t2 - t1)
            res['destroy'].append(t3 - t2)

        doms = [conn.defineXML(named(base, f'{PREFIX}c{i}')) for i in range(concurrent)]
        for _ in range(max(1, min(3, runs))):
            conns = [libvirt.open('qemu:///system') for _ in range(concurrent)]
            handles = [c.lookupByName(d.name()) for c, d in zip(conns, doms)]
            barrier = threading.Barrier(concurrent + 1)

            def start(h):
                barrier.wait()
                h.create()

            threads = [threading.Thread(target=start, args=(h,)) for h in handles]
            for t in threads:
                t.start()
            t0 = time.perf_counter()
            barrier.wait()
            for t in threads:
                t.join()
            res['concurrent'].append(time.perf_counter() - t0)
            for d in doms:
                d.destroy()
            for c in conns:
                c.close()
    finally:
        cleanup(conn)
    print(json.dumps(res))


main()
