export * from './errorCodes.js';
export * from './errno.js';
export * from './virtError.js';
