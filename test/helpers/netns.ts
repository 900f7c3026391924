// Puts this test process into a network namespace of its own, so tests create bridges, taps and
// qdiscs against the real kernel without touching the host's devices. Node's main thread enters
// the namespace (setns); netlink sockets and child processes (ip, tc, qemu) created from
// JavaScript afterwards live there. /sys/class/net still shows the host: use netlink.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { CLONE_NEWNET, setns } from '../../src/host/syscalls.js';

export interface TestNetns {
  name: string;
  /** Back to the original namespace; the namespace and everything in it is deleted. */
  leave(): void;
}

let counter = 0;

export function enterTestNetns(tag: string): TestNetns {
  const name = `tsv-${tag}-${process.pid}-${counter++}`;
  execFileSync('ip', ['netns', 'add', name]);
  const orig = openSync('/proc/self/ns/net', 'r');
  const target = openSync(`/run/netns/${name}`, 'r');
  try {
    setns(target, CLONE_NEWNET);
  } finally {
    closeSync(target);
  }
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  let left = false;
  return {
    name,
    leave() {
      if (left) return;
      left = true;
      setns(orig, CLONE_NEWNET);
      closeSync(orig);
      execFileSync('ip', ['netns', 'del', name]);
    },
  };
}
