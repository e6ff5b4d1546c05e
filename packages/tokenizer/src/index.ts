export * from './bounded-token-count.js';
export * from './token-meter.js';
