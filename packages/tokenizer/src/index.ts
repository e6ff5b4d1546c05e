export * from './bounded-token-count.js';
export { warmUpTokenizer } from './byte-pair-counter.js';
export * from './token-meter.js';
