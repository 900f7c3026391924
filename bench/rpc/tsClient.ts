// One measurement with tsvirt's client library: CONCURRENCY connections (in this one process),
// each calling OP in a loop for SECONDS; prints {"calls", "seconds", "lat_us": [median, p90]}.
// Usage: node dist/bench/rpc/tsClient.js URI OP SECONDS CONCURRENCY DOMAIN
import { open } from '../../src/api/index.js';
import type { Connection } from '../../src/api/connection.js';

const [uri, op, secondsArg, concArg, domName] = process.argv.slice(2) as [string, string, string, string, string];
const seconds = Number(secondsArg);
const conc = Number(concArg);

async function callFor(conn: Connection): Promise<() => Promise<unknown>> {
  const dom = await conn.domainLookupByName(domName);
  switch (op) {
    case 'getVersion':
      return () => conn.getVersion();
    case 'lookupByName':
      return () => conn.domainLookupByName(domName);
    case 'getXMLDesc':
      return () => dom.getXMLDesc(0);
    case 'listAllDomains':
      return () => conn.listAllDomains(0);
    default:
      throw new Error(`unknown op ${op}`);
  }
}

const conns = await Promise.all(Array.from({ length: conc }, () => open(uri)));
const calls = await Promise.all(conns.map(callFor));
for (const f of calls) await f(); // warm up
const lat: number[] = [];
const start = performance.now();
const end = start + seconds * 1000;
await Promise.all(
  calls.map(async (f) => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) break;
      await f();
      lat.push(performance.now() - t0);
    }
  }),
);
const elapsed = (performance.now() - start) / 1000;
lat.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ calls: lat.length, seconds: elapsed, lat_us: [lat[lat.length >> 1]! * 1000, lat[Math.floor(lat.length * 0.9)]! * 1000] })}\n`);
await Promise.all(conns.map((c) => c.close()));
