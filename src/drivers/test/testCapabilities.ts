// The capabilities XML of a test:/// connection.
//
// STAND-IN: the formatter and the test driver's host data come from src/conf/capabilities and
// src/drivers/test/capabilities.ts (helper conf-network); until they land this answers NO_SUPPORT.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';

export function testCapabilitiesXML(_numCells: number): string {
  throw virtError(ErrorNumber.NO_SUPPORT, ErrorDomain.NONE, 'virConnectGetCapabilities', {});
}
