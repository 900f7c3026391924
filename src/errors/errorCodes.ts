// libvirt's error numbers (virErrorNumber), error domains (virErrorDomain) and the message
// templates libvirt prints for each number. The numbers are wire protocol: never renumber.

/** virErrorNumber: the `code` of an error. */
export const ErrorNumber = {
  OK: 0,
  INTERNAL_ERROR: 1,
  NO_MEMORY: 2,
  NO_SUPPORT: 3,
  UNKNOWN_HOST: 4,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  GET_FAILED: 10,
  POST_FAILED: 11,
  HTTP_ERROR: 12,
  SEXPR_SERIAL: 13,
  NO_XEN: 14,
  XEN_CALL: 15,
  OS_TYPE: 16,
  NO_KERNEL: 17,
  NO_ROOT: 18,
  NO_SOURCE: 19,
  NO_TARGET: 20,
  NO_NAME: 21,
  NO_OS: 22,
  NO_DEVICE: 23,
  NO_XENSTORE: 24,
  DRIVER_FULL: 25,
  CALL_FAILED: 26,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  OPEN_FAILED: 30,
  READ_FAILED: 31,
  PARSE_FAILED: 32,
  CONF_SYNTAX: 33,
  WRITE_FAILED: 34,
  XML_DETAIL: 35,
  INVALID_NETWORK: 36,
  NETWORK_EXIST: 37,
  SYSTEM_ERROR: 38,
  RPC: 39,
  GNUTLS_ERROR: 40,
  WAR_NO_NETWORK: 41,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  INVALID_MAC: 44,
  AUTH_FAILED: 45,
  INVALID_STORAGE_POOL: 46,
  INVALID_STORAGE_VOL: 47,
  WAR_NO_STORAGE: 48,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  WAR_NO_NODE: 51,
  INVALID_NODE_DEVICE: 52,
  NO_NODE_DEVICE: 53,
  NO_SECURITY_MODEL: 54,
  OPERATION_INVALID: 55,
  WAR_NO_INTERFACE: 56,
  NO_INTERFACE: 57,
  INVALID_INTERFACE: 58,
  MULTIPLE_INTERFACES: 59,
  WAR_NO_NWFILTER: 60,
  INVALID_NWFILTER: 61,
  NO_NWFILTER: 62,
  BUILD_FIREWALL: 63,
  WAR_NO_SECRET: 64,
  INVALID_SECRET: 65,
  NO_SECRET: 66,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  MIGRATE_PERSIST_FAILED: 69,
  HOOK_SCRIPT_FAILED: 70,
  INVALID_DOMAIN_SNAPSHOT: 71,
  NO_DOMAIN_SNAPSHOT: 72,
  INVALID_STREAM: 73,
  ARGUMENT_UNSUPPORTED: 74,
  STORAGE_PROBE_FAILED: 75,
  STORAGE_POOL_BUILT: 76,
  SNAPSHOT_REVERT_RISKY: 77,
  OPERATION_ABORTED: 78,
  AUTH_CANCELLED: 79,
  NO_DOMAIN_METADATA: 80,
  MIGRATE_UNSAFE: 81,
  OVERFLOW: 82,
  BLOCK_COPY_ACTIVE: 83,
  OPERATION_UNSUPPORTED: 84,
  SSH: 85,
  AGENT_UNRESPONSIVE: 86,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  DBUS_SERVICE: 89,
  STORAGE_VOL_EXIST: 90,
  CPU_INCOMPATIBLE: 91,
  XML_INVALID_SCHEMA: 92,
  MIGRATE_FINISH_OK: 93,
  AUTH_UNAVAILABLE: 94,
  NO_SERVER: 95,
  NO_CLIENT: 96,
  AGENT_UNSYNCED: 97,
  LIBSSH: 98,
  DEVICE_MISSING: 99,
  INVALID_NWFILTER_BINDING: 100,
  NO_NWFILTER_BINDING: 101,
  INVALID_DOMAIN_CHECKPOINT: 102,
  NO_DOMAIN_CHECKPOINT: 103,
  NO_DOMAIN_BACKUP: 104,
  INVALID_NETWORK_PORT: 105,
  NETWORK_PORT_EXIST: 106,
  NO_NETWORK_PORT: 107,
  NO_HOSTNAME: 108,
  CHECKPOINT_INCONSISTENT: 109,
  MULTIPLE_DOMAINS: 110,
} as const;
export type ErrorNumber = (typeof ErrorNumber)[keyof typeof ErrorNumber];

/** virErrorDomain: which part of libvirt raised the error. */
export const ErrorDomain = {
  NONE: 0,
  XEN: 1,
  XEND: 2,
  XENSTORE: 3,
  SEXPR: 4,
  XML: 5,
  DOM: 6,
  RPC: 7,
  PROXY: 8,
  CONF: 9,
  QEMU: 10,
  NET: 11,
  TEST: 12,
  REMOTE: 13,
  OPENVZ: 14,
  XENXM: 15,
  STATS_LINUX: 16,
  LXC: 17,
  STORAGE: 18,
  NETWORK: 19,
  DOMAIN: 20,
  UML: 21,
  NODEDEV: 22,
  XEN_INOTIFY: 23,
  SECURITY: 24,
  VBOX: 25,
  INTERFACE: 26,
  ONE: 27,
  ESX: 28,
  PHYP: 29,
  SECRET: 30,
  CPU: 31,
  XENAPI: 32,
  NWFILTER: 33,
  HOOK: 34,
  DOMAIN_SNAPSHOT: 35,
  AUDIT: 36,
  SYSINFO: 37,
  STREAMS: 38,
  VMWARE: 39,
  EVENT: 40,
  LIBXL: 41,
  LOCKING: 42,
  HYPERV: 43,
  CAPABILITIES: 44,
  URI: 45,
  AUTH: 46,
  DBUS: 47,
  PARALLELS: 48,
  DEVICE: 49,
  SSH: 50,
  LOCKSPACE: 51,
  INITCTL: 52,
  IDENTITY: 53,
  CGROUP: 54,
  ACCESS: 55,
  SYSTEMD: 56,
  BHYVE: 57,
  CRYPTO: 58,
  FIREWALL: 59,
  POLKIT: 60,
  THREAD: 61,
  ADMIN: 62,
  LOGGING: 63,
  XENXL: 64,
  PERF: 65,
  LIBSSH: 66,
  RESCTRL: 67,
  FIREWALLD: 68,
  DOMAIN_CHECKPOINT: 69,
  TPM: 70,
  BPF: 71,
  CH: 72,
} as const;
export type ErrorDomain = (typeof ErrorDomain)[keyof typeof ErrorDomain];

/** virErrorLevel. */
export const ErrorLevel = { NONE: 0, WARNING: 1, ERROR: 2 } as const;
export type ErrorLevel = (typeof ErrorLevel)[keyof typeof ErrorLevel];

/**
 * For each error number: the message without detail, and the template (one `%s`) with detail.
 * Indexed by number.
 */
export const errorTemplates: ReadonlyArray<readonly [string, string]> = [
  ['', '%s'], // OK
  ['internal error', 'internal error: %s'], // INTERNAL_ERROR
  ['out of memory', 'out of memory: %s'], // NO_MEMORY
  ['this function is not supported by the connection driver', 'this function is not supported by the connection driver: %s'], // NO_SUPPORT
  ['unknown host', 'unknown host %s'], // UNKNOWN_HOST
  ['no connection driver available', 'no connection driver available for %s'], // NO_CONNECT
  ['invalid connection pointer in', 'invalid connection pointer in %s'], // INVALID_CONN
  ['invalid domain pointer in', 'invalid domain pointer in %s'], // INVALID_DOMAIN
  ['invalid argument', 'invalid argument: %s'], // INVALID_ARG
  ['operation failed', 'operation failed: %s'], // OPERATION_FAILED
  ['GET operation failed', 'GET operation failed: %s'], // GET_FAILED
  ['POST operation failed', 'POST operation failed: %s'], // POST_FAILED
  ['got unknown HTTP error code', 'got unknown HTTP error code %s'], // HTTP_ERROR
  ['failed to serialize S-Expr', 'failed to serialize S-Expr: %s'], // SEXPR_SERIAL
  ['could not use Xen hypervisor entry', 'could not use Xen hypervisor entry %s'], // NO_XEN
  ['failed Xen syscall', 'failed Xen syscall %s'], // XEN_CALL
  ['unknown OS type', 'unknown OS type %s'], // OS_TYPE
  ['missing kernel information', 'missing kernel information: %s'], // NO_KERNEL
  ['missing root device information', 'missing root device information in %s'], // NO_ROOT
  ['missing source information for device', 'missing source information for device %s'], // NO_SOURCE
  ['missing target information for device', 'missing target information for device %s'], // NO_TARGET
  ['missing name information', 'missing name information in %s'], // NO_NAME
  ['missing operating system information', 'missing operating system information for %s'], // NO_OS
  ['missing devices information', 'missing devices information for %s'], // NO_DEVICE
  ['could not connect to Xen Store', 'could not connect to Xen Store %s'], // NO_XENSTORE
  ['too many drivers registered', 'too many drivers registered in %s'], // DRIVER_FULL
  ['library call failed', 'library call failed: %s'], // CALL_FAILED
  ['XML description is invalid or not well formed', 'XML error: %s'], // XML_ERROR
  ['this domain exists already', 'domain %s exists already'], // DOM_EXIST
  ['operation forbidden for read only access', 'operation forbidden: %s'], // OPERATION_DENIED
  ['failed to open configuration file', 'failed to open configuration file %s'], // OPEN_FAILED
  ['failed to read configuration file', 'failed to read configuration file %s'], // READ_FAILED
  ['failed to parse configuration file', 'failed to parse configuration file %s'], // PARSE_FAILED
  ['configuration file syntax error', 'configuration file syntax error: %s'], // CONF_SYNTAX
  ['failed to write configuration file', 'failed to write configuration file: %s'], // WRITE_FAILED
  ['parser error', '%s'], // XML_DETAIL
  ['invalid network pointer in', 'invalid network pointer in %s'], // INVALID_NETWORK
  ['this network exists already', 'network %s exists already'], // NETWORK_EXIST
  ['system call error', '%s'], // SYSTEM_ERROR
  ['RPC error', '%s'], // RPC
  ['GNUTLS call error', '%s'], // GNUTLS_ERROR
  ['Failed to find the network', 'Failed to find the network: %s'], // WAR_NO_NETWORK
  ['Domain not found', 'Domain not found: %s'], // NO_DOMAIN
  ['Network not found', 'Network not found: %s'], // NO_NETWORK
  ['invalid MAC address', 'invalid MAC address: %s'], // INVALID_MAC
  ['authentication failed', 'authentication failed: %s'], // AUTH_FAILED
  ['invalid storage pool pointer in', 'invalid storage pool pointer in %s'], // INVALID_STORAGE_POOL
  ['invalid storage volume pointer in', 'invalid storage volume pointer in %s'], // INVALID_STORAGE_VOL
  ['Failed to find a storage driver', 'Failed to find a storage driver: %s'], // WAR_NO_STORAGE
  ['Storage pool not found', 'Storage pool not found: %s'], // NO_STORAGE_POOL
  ['Storage volume not found', 'Storage volume not found: %s'], // NO_STORAGE_VOL
  ['Failed to find a node driver', 'Failed to find a node driver: %s'], // WAR_NO_NODE
  ['invalid node device pointer', 'invalid node device pointer in %s'], // INVALID_NODE_DEVICE
  ['Node device not found', 'Node device not found: %s'], // NO_NODE_DEVICE
  ['Security model not found', 'Security model not found: %s'], // NO_SECURITY_MODEL
  ['Requested operation is not valid', 'Requested operation is not valid: %s'], // OPERATION_INVALID
  ['Failed to find the interface', 'Failed to find the interface: %s'], // WAR_NO_INTERFACE
  ['Interface not found', 'Interface not found: %s'], // NO_INTERFACE
  ['invalid interface pointer in', 'invalid interface pointer in %s'], // INVALID_INTERFACE
  ['multiple matching interfaces found', 'multiple matching interfaces found: %s'], // MULTIPLE_INTERFACES
  ['Failed to start the nwfilter driver', 'Failed to start the nwfilter driver: %s'], // WAR_NO_NWFILTER
  ['Invalid network filter', 'Invalid network filter: %s'], // INVALID_NWFILTER
  ['Network filter not found', 'Network filter not found: %s'], // NO_NWFILTER
  ['Error while building firewall', 'Error while building firewall: %s'], // BUILD_FIREWALL
  ['Failed to find a secret storage driver', 'Failed to find a secret storage driver: %s'], // WAR_NO_SECRET
  ['Invalid secret', 'Invalid secret: %s'], // INVALID_SECRET
  ['Secret not found', 'Secret not found: %s'], // NO_SECRET
  ['unsupported configuration', 'unsupported configuration: %s'], // CONFIG_UNSUPPORTED
  ['Timed out during operation', 'Timed out during operation: %s'], // OPERATION_TIMEOUT
  ['Failed to make domain persistent after migration', 'Failed to make domain persistent after migration: %s'], // MIGRATE_PERSIST_FAILED
  ['Hook script execution failed', 'Hook script execution failed: %s'], // HOOK_SCRIPT_FAILED
  ['Invalid domain snapshot', 'Invalid domain snapshot: %s'], // INVALID_DOMAIN_SNAPSHOT
  ['Domain snapshot not found', 'Domain snapshot not found: %s'], // NO_DOMAIN_SNAPSHOT
  ['invalid stream pointer', 'invalid stream pointer in %s'], // INVALID_STREAM
  ['argument unsupported', 'argument unsupported: %s'], // ARGUMENT_UNSUPPORTED
  ['Storage pool probe failed', 'Storage pool probe failed: %s'], // STORAGE_PROBE_FAILED
  ['Storage pool already built', 'Storage pool already built: %s'], // STORAGE_POOL_BUILT
  ['revert requires force', 'revert requires force: %s'], // SNAPSHOT_REVERT_RISKY
  ['operation aborted', 'operation aborted: %s'], // OPERATION_ABORTED
  ['authentication cancelled', 'authentication cancelled: %s'], // AUTH_CANCELLED
  ['metadata not found', 'metadata not found: %s'], // NO_DOMAIN_METADATA
  ['Unsafe migration', 'Unsafe migration: %s'], // MIGRATE_UNSAFE
  ['numerical overflow', 'numerical overflow: %s'], // OVERFLOW
  ['block copy still active', 'block copy still active: %s'], // BLOCK_COPY_ACTIVE
  ['Operation not supported', 'Operation not supported: %s'], // OPERATION_UNSUPPORTED
  ['SSH transport error', 'SSH transport error: %s'], // SSH
  ['Guest agent is not responding', 'Guest agent is not responding: %s'], // AGENT_UNRESPONSIVE
  ['resource busy', 'resource busy: %s'], // RESOURCE_BUSY
  ['access denied', 'access denied: %s'], // ACCESS_DENIED
  ['error from service', 'error from service: %s'], // DBUS_SERVICE
  ['this storage volume exists already', 'storage volume %s exists already'], // STORAGE_VOL_EXIST
  ['the CPU is incompatible with host CPU', 'the CPU is incompatible with host CPU: %s'], // CPU_INCOMPATIBLE
  ['XML document failed to validate against schema', 'XML document failed to validate against schema: %s'], // XML_INVALID_SCHEMA
  ['migration successfully aborted', 'migration successfully aborted: %s'], // MIGRATE_FINISH_OK
  ['authentication unavailable', 'authentication unavailable: %s'], // AUTH_UNAVAILABLE
  ['Server not found', 'Server not found: %s'], // NO_SERVER
  ['Client not found', 'Client not found: %s'], // NO_CLIENT
  ['guest agent replied with wrong id to guest-sync command', 'guest agent replied with wrong id to guest-sync command: %s'], // AGENT_UNSYNCED
  ['libssh transport error', 'libssh transport error: %s'], // LIBSSH
  ['device not found', 'device not found: %s'], // DEVICE_MISSING
  ['Invalid network filter binding', 'Invalid network filter binding: %s'], // INVALID_NWFILTER_BINDING
  ['Network filter binding not found', 'Network filter binding not found: %s'], // NO_NWFILTER_BINDING
  ['Invalid domain checkpoint', 'Invalid domain checkpoint: %s'], // INVALID_DOMAIN_CHECKPOINT
  ['Domain checkpoint not found', 'Domain checkpoint not found: %s'], // NO_DOMAIN_CHECKPOINT
  ['Domain backup job id not found', 'Domain backup job id not found: %s'], // NO_DOMAIN_BACKUP
  ['Invalid network port pointer', 'Invalid network port pointer: %s'], // INVALID_NETWORK_PORT
  ['this network port exists already', 'network port %s exists already'], // NETWORK_PORT_EXIST
  ['network port not found', 'network port not found: %s'], // NO_NETWORK_PORT
  ['no hostname found', 'no hostname found: %s'], // NO_HOSTNAME
  ['checkpoint inconsistent', 'checkpoint inconsistent: %s'], // CHECKPOINT_INCONSISTENT
  ['multiple matching domains found', 'multiple matching domains found: %s'], // MULTIPLE_DOMAINS
];

const errorNames: readonly string[] = Object.keys(ErrorNumber);
const domainNames = new Map<number, string>(Object.entries(ErrorDomain).map(([k, v]) => [v, k]));

/** 'NO_DOMAIN' for 42. */
export function errorNumberName(code: number): string {
  return errorNames[code] ?? `UNKNOWN_${code}`;
}

/** 'QEMU' for 10. */
export function errorDomainName(domain: number): string {
  return domainNames.get(domain) ?? `UNKNOWN_${domain}`;
}
