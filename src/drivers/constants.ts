// libvirt's public enums and flag values, named after the C enums without 'vir' and each
// constant without its enum's prefix (VIR_DOMAIN_EVENT_STOPPED_DESTROYED →
// DomainEventStoppedDetailType.DESTROYED). The numbers are API and wire protocol: never change one.
// Generated from libvirt 9.0's own definitions.

/** virConnectFlags */
export const ConnectFlags = {
  RO: 1,
  NO_ALIASES: 2,
} as const;

/** virConnectCloseReason */
export const ConnectCloseReason = {
  ERROR: 0,
  EOF: 1,
  KEEPALIVE: 2,
  CLIENT: 3,
} as const;

/** virConnectListAllDomainsFlags */
export const ConnectListAllDomainsFlags = {
  ACTIVE: 1,
  INACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
  OTHER: 128,
  MANAGEDSAVE: 256,
  NO_MANAGEDSAVE: 512,
  AUTOSTART: 1024,
  NO_AUTOSTART: 2048,
  HAS_SNAPSHOT: 4096,
  NO_SNAPSHOT: 8192,
  HAS_CHECKPOINT: 16384,
  NO_CHECKPOINT: 32768,
} as const;

/** virConnectListAllNetworksFlags */
export const ConnectListAllNetworksFlags = {
  INACTIVE: 1,
  ACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  AUTOSTART: 16,
  NO_AUTOSTART: 32,
} as const;

/** virConnectListAllStoragePoolsFlags */
export const ConnectListAllStoragePoolsFlags = {
  INACTIVE: 1,
  ACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  AUTOSTART: 16,
  NO_AUTOSTART: 32,
  DIR: 64,
  FS: 128,
  NETFS: 256,
  LOGICAL: 512,
  DISK: 1024,
  ISCSI: 2048,
  SCSI: 4096,
  MPATH: 8192,
  RBD: 16384,
  SHEEPDOG: 32768,
  GLUSTER: 65536,
  ZFS: 131072,
  VSTORAGE: 262144,
  ISCSI_DIRECT: 524288,
} as const;

/** virDomainState */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;

/** virDomainNostateReason */
export const DomainNostateReason = {
  UNKNOWN: 0,
} as const;

/** virDomainRunningReason */
export const DomainRunningReason = {
  UNKNOWN: 0,
  BOOTED: 1,
  MIGRATED: 2,
  RESTORED: 3,
  FROM_SNAPSHOT: 4,
  UNPAUSED: 5,
  MIGRATION_CANCELED: 6,
  SAVE_CANCELED: 7,
  WAKEUP: 8,
  CRASHED: 9,
  POSTCOPY: 10,
  POSTCOPY_FAILED: 11,
} as const;

/** virDomainBlockedReason */
export const DomainBlockedReason = {
  UNKNOWN: 0,
} as const;

/** virDomainPausedReason */
export const DomainPausedReason = {
  UNKNOWN: 0,
  USER: 1,
  MIGRATION: 2,
  SAVE: 3,
  DUMP: 4,
  IOERROR: 5,
  WATCHDOG: 6,
  FROM_SNAPSHOT: 7,
  SHUTTING_DOWN: 8,
  SNAPSHOT: 9,
  CRASHED: 10,
  STARTING_UP: 11,
  POSTCOPY: 12,
  POSTCOPY_FAILED: 13,
} as const;

/** virDomainShutdownReason */
export const DomainShutdownReason = {
  UNKNOWN: 0,
  USER: 1,
} as const;

/** virDomainShutoffReason */
export const DomainShutoffReason = {
  UNKNOWN: 0,
  SHUTDOWN: 1,
  DESTROYED: 2,
  CRASHED: 3,
  MIGRATED: 4,
  SAVED: 5,
  FAILED: 6,
  FROM_SNAPSHOT: 7,
  DAEMON: 8,
} as const;

/** virDomainCrashedReason */
export const DomainCrashedReason = {
  UNKNOWN: 0,
  PANICKED: 1,
} as const;

/** virDomainPMSuspendedReason */
export const DomainPMSuspendedReason = {
  UNKNOWN: 0,
} as const;

/** virDomainXMLFlags */
export const DomainXMLFlags = {
  SECURE: 1,
  INACTIVE: 2,
  UPDATE_CPU: 4,
  MIGRATABLE: 8,
} as const;

/** virDomainModificationImpact */
export const DomainModificationImpact = {
  CURRENT: 0,
  LIVE: 1,
  CONFIG: 2,
} as const;

/** virDomainDeviceModifyFlags */
export const DomainDeviceModifyFlags = {
  CURRENT: 0,
  LIVE: 1,
  CONFIG: 2,
  FORCE: 4,
} as const;

/** virDomainDefineFlags */
export const DomainDefineFlags = {
  VALIDATE: 1,
} as const;

/** virDomainCreateFlags */
export const DomainCreateFlags = {
  PAUSED: 1,
  AUTODESTROY: 2,
  BYPASS_CACHE: 4,
  FORCE_BOOT: 8,
  VALIDATE: 16,
  RESET_NVRAM: 32,
} as const;

/** virDomainDestroyFlagsValues */
export const DomainDestroyFlagsValues = {
  DEFAULT: 0,
  GRACEFUL: 1,
  REMOVE_LOGS: 2,
} as const;

/** virDomainShutdownFlagValues */
export const DomainShutdownFlagValues = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1,
  GUEST_AGENT: 2,
  INITCTL: 4,
  SIGNAL: 8,
  PARAVIRT: 16,
} as const;

/** virDomainRebootFlagValues */
export const DomainRebootFlagValues = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1,
  GUEST_AGENT: 2,
  INITCTL: 4,
  SIGNAL: 8,
  PARAVIRT: 16,
} as const;

/** virDomainUndefineFlagsValues */
export const DomainUndefineFlagsValues = {
  MANAGED_SAVE: 1,
  SNAPSHOTS_METADATA: 2,
  NVRAM: 4,
  KEEP_NVRAM: 8,
  CHECKPOINTS_METADATA: 16,
  TPM: 32,
  KEEP_TPM: 64,
} as const;

/** virDomainConsoleFlags */
export const DomainConsoleFlags = {
  FORCE: 1,
  SAFE: 2,
} as const;

/** virDomainInterfaceAddressesSource */
export const DomainInterfaceAddressesSource = {
  LEASE: 0,
  AGENT: 1,
  ARP: 2,
} as const;

/** virDomainEventID */
export const DomainEventID = {
  LIFECYCLE: 0,
  REBOOT: 1,
  RTC_CHANGE: 2,
  WATCHDOG: 3,
  IO_ERROR: 4,
  GRAPHICS: 5,
  IO_ERROR_REASON: 6,
  CONTROL_ERROR: 7,
  BLOCK_JOB: 8,
  DISK_CHANGE: 9,
  TRAY_CHANGE: 10,
  PMWAKEUP: 11,
  PMSUSPEND: 12,
  BALLOON_CHANGE: 13,
  PMSUSPEND_DISK: 14,
  DEVICE_REMOVED: 15,
  BLOCK_JOB_2: 16,
  TUNABLE: 17,
  AGENT_LIFECYCLE: 18,
  DEVICE_ADDED: 19,
  MIGRATION_ITERATION: 20,
  JOB_COMPLETED: 21,
  DEVICE_REMOVAL_FAILED: 22,
  METADATA_CHANGE: 23,
  BLOCK_THRESHOLD: 24,
  MEMORY_FAILURE: 25,
  MEMORY_DEVICE_SIZE_CHANGE: 26,
} as const;

/** virDomainEventType */
export const DomainEventType = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;

/** virDomainEventDefinedDetailType */
export const DomainEventDefinedDetailType = {
  ADDED: 0,
  UPDATED: 1,
  RENAMED: 2,
  FROM_SNAPSHOT: 3,
} as const;

/** virDomainEventUndefinedDetailType */
export const DomainEventUndefinedDetailType = {
  REMOVED: 0,
  RENAMED: 1,
} as const;

/** virDomainEventStartedDetailType */
export const DomainEventStartedDetailType = {
  BOOTED: 0,
  MIGRATED: 1,
  RESTORED: 2,
  FROM_SNAPSHOT: 3,
  WAKEUP: 4,
} as const;

/** virDomainEventSuspendedDetailType */
export const DomainEventSuspendedDetailType = {
  PAUSED: 0,
  MIGRATED: 1,
  IOERROR: 2,
  WATCHDOG: 3,
  RESTORED: 4,
  FROM_SNAPSHOT: 5,
  API_ERROR: 6,
  POSTCOPY: 7,
  POSTCOPY_FAILED: 8,
} as const;

/** virDomainEventResumedDetailType */
export const DomainEventResumedDetailType = {
  UNPAUSED: 0,
  MIGRATED: 1,
  FROM_SNAPSHOT: 2,
  POSTCOPY: 3,
  POSTCOPY_FAILED: 4,
} as const;

/** virDomainEventStoppedDetailType */
export const DomainEventStoppedDetailType = {
  SHUTDOWN: 0,
  DESTROYED: 1,
  CRASHED: 2,
  MIGRATED: 3,
  SAVED: 4,
  FAILED: 5,
  FROM_SNAPSHOT: 6,
} as const;

/** virDomainEventShutdownDetailType */
export const DomainEventShutdownDetailType = {
  FINISHED: 0,
  GUEST: 1,
  HOST: 2,
} as const;

/** virDomainEventPMSuspendedDetailType */
export const DomainEventPMSuspendedDetailType = {
  MEMORY: 0,
  DISK: 1,
} as const;

/** virDomainEventCrashedDetailType */
export const DomainEventCrashedDetailType = {
  PANICKED: 0,
  CRASHLOADED: 1,
} as const;

/** virDomainEventWatchdogAction */
export const DomainEventWatchdogAction = {
  NONE: 0,
  PAUSE: 1,
  RESET: 2,
  POWEROFF: 3,
  SHUTDOWN: 4,
  DEBUG: 5,
  INJECTNMI: 6,
} as const;

/** virDomainEventIOErrorAction */
export const DomainEventIOErrorAction = {
  NONE: 0,
  PAUSE: 1,
  REPORT: 2,
} as const;

/** virDomainEventTrayChangeReason */
export const DomainEventTrayChangeReason = {
  OPEN: 0,
  CLOSE: 1,
} as const;

/** virNetworkEventID */
export const NetworkEventID = {
  LIFECYCLE: 0,
} as const;

/** virNetworkEventLifecycleType */
export const NetworkEventLifecycleType = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  STOPPED: 3,
} as const;

/** virNetworkXMLFlags */
export const NetworkXMLFlags = {
  INACTIVE: 1,
} as const;

/** virNetworkDefineFlags */
export const NetworkDefineFlags = {
  VALIDATE: 1,
} as const;

/** virNetworkCreateFlags */
export const NetworkCreateFlags = {
  VALIDATE: 1,
} as const;

/** virTypedParameterType */
export const TypedParameterType = {
  INT: 1,
  UINT: 2,
  LLONG: 3,
  ULLONG: 4,
  DOUBLE: 5,
  BOOLEAN: 6,
  STRING: 7,
} as const;

/** virTypedParameterFlags */
export const TypedParameterFlags = {
  /** the caller takes string parameters */
  STRING_OKAY: 4,
} as const;

/** field names of virDomainSetInterfaceParameters */
export const DomainBandwidthParam = {
  IN_AVERAGE: 'inbound.average',
  IN_BURST: 'inbound.burst',
  IN_FLOOR: 'inbound.floor',
  IN_PEAK: 'inbound.peak',
  OUT_AVERAGE: 'outbound.average',
  OUT_BURST: 'outbound.burst',
  OUT_PEAK: 'outbound.peak',
} as const;

/** The driver features a client may ask about (virDrvFeature; CONNECT_SUPPORTS_FEATURE). */
export const DrvFeature = {
  MIGRATION_V1: 1,
  REMOTE: 2,
  MIGRATION_V2: 3,
  MIGRATION_P2P: 4,
  MIGRATION_DIRECT: 5,
  MIGRATION_V3: 6,
  MIGRATE_CHANGE_PROTECTION: 7,
  FD_PASSING: 8,
  TYPED_PARAM_STRING: 9,
  PROGRAM_KEEPALIVE: 10,
  XML_MIGRATABLE: 11,
  MIGRATION_OFFLINE: 12,
  MIGRATION_PARAMS: 13,
  REMOTE_EVENT_CALLBACK: 14,
  REMOTE_CLOSE_CALLBACK: 15,
  NETWORK_UPDATE_HAS_CORRECT_ORDER: 16,
} as const;

/** LIBVIR_VERSION_NUMBER of libvirt 9.0.0, whose behaviour the local drivers reproduce (virConnectGetLibVersion). */
export const LIB_VERSION = 9_000_000;
