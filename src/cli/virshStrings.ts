// The words virsh prints for libvirt's enums: domain states and reasons, event types and details.

const STATES = ['no state', 'running', 'idle', 'paused', 'in shutdown', 'shut off', 'crashed', 'pmsuspended'];

export function domainStateString(state: number): string {
  return STATES[state] ?? 'no state';
}

const REASONS: string[][] = [
  ['unknown'],
  ['unknown', 'booted', 'migrated', 'restored', 'from snapshot', 'unpaused', 'migration canceled', 'save canceled', 'event wakeup', 'crashed', 'post-copy', 'post-copy failed'],
  ['unknown'],
  ['unknown', 'user', 'migrating', 'saving', 'dumping', 'I/O error', 'watchdog', 'from snapshot', 'shutting down', 'creating snapshot', 'crashed', 'starting up', 'post-copy', 'post-copy failed'],
  ['unknown', 'user'],
  ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot', 'daemon'],
  ['unknown', 'panicked'],
  ['unknown'],
];

export function domainStateReasonString(state: number, reason: number): string {
  return REASONS[state]?.[reason] ?? 'unknown';
}

const EVENTS = ['Defined', 'Undefined', 'Started', 'Suspended', 'Resumed', 'Stopped', 'Shutdown', 'PMSuspended', 'Crashed'];

const DETAILS: string[][] = [
  ['Added', 'Updated', 'Renamed', 'Snapshot'],
  ['Removed', 'Renamed'],
  ['Booted', 'Migrated', 'Restored', 'Snapshot', 'Event wakeup'],
  ['Paused', 'Migrated', 'I/O Error', 'Watchdog', 'Restored', 'Snapshot', 'API error', 'Post-copy', 'Post-copy Error'],
  ['Unpaused', 'Migrated', 'Snapshot', 'Post-copy', 'Post-copy Error'],
  ['Shutdown', 'Destroyed', 'Crashed', 'Migrated', 'Saved', 'Failed', 'Snapshot'],
  ['Finished', 'Finished after guest request', 'Finished after host request'],
  ['Memory', 'Disk'],
  ['Panicked', 'Crashloaded'],
];

export function domainEventString(event: number): string {
  return EVENTS[event] ?? 'unknown';
}

export function domainEventDetailString(event: number, detail: number): string {
  return DETAILS[event]?.[detail] ?? 'unknown';
}

/** virsh's names of DomainEventID values, in number order (event --list). */
export const DOMAIN_EVENT_NAMES = [
  'lifecycle', 'reboot', 'rtc-change', 'watchdog', 'io-error', 'graphics', 'io-error-reason', 'control-error',
  'block-job', 'disk-change', 'tray-change', 'pm-wakeup', 'pm-suspend', 'balloon-change', 'pm-suspend-disk',
  'device-removed', 'block-job-2', 'tunable', 'agent-lifecycle', 'device-added', 'migration-iteration',
  'job-completed', 'device-removal-failed', 'metadata-change', 'block-threshold', 'memory-failure',
  'memory-device-size-change',
];
