// What a device parser or formatter is told about the document it works in.
import type { ParseContext } from './parseContext.js';

/** What the domain parser knows while it reads devices. */
export interface DeviceParseEnv {
  ctx: ParseContext;
  /** The driver accepts user aliases ('ua-…'). */
  userAlias: boolean;
  /** Host interface name prefixes that count as generated (dropped from inactive XML). */
  netPrefixes: string[];
  /** The driver accepts any string as interface model. */
  netModelString?: boolean;
  /** The domain the devices belong to, for parse-time defaults (input bus by OS and arch). */
  domain?: { type: string; os: { type: string; arch: string } };
}

export interface DeviceFormatEnv {
  inactive: boolean;
  secure: boolean;
  migratable: boolean;
  /** Status XML (VIR_DOMAIN_DEF_FORMAT_STATUS): runtime-only data such as <actual> is kept. */
  status?: boolean;
  /** Host interface name prefixes that count as generated (left out of inactive XML). */
  netPrefixes?: string[];
}
