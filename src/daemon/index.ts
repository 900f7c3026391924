// tsvirtd's public face: the daemon, its configuration and its log.
export { Tsvirtd, daemonPaths, groupId, type DaemonMode, type DaemonPaths, type DaemonSockets, type TsvirtdOptions } from './daemon.js';
export {
  parseDaemonConfig,
  loadDaemonConfig,
  defaultDaemonConfig,
  builtinDaemonConfig,
  configChanges,
  knownConfigKeys,
  RELOADABLE_KEYS,
  type DaemonConfig,
  type LoadedConfig,
  type ConfigChanges,
  type AuthScheme,
} from './daemonConfig.js';
export { parseConf, type ConfFile, type ConfEntry, type ConfValue } from './confFile.js';
export { DaemonLog, LogLevel, parseLogFilters, parseLogOutputs, logTimestamp, type LogFilter, type LogOutputSpec, type LogSettings } from './logging.js';
export { LocalDrivers, type LocalDriversOptions } from './localDrivers.js';
export { PidFile } from './pidFile.js';
export { main, runFromProcess } from './main.js';
