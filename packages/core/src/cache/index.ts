export * from './cache-config-schema.js';
export * from './cache-keys.js';
export * from './cache-policy.js';
export * from './exact-cache.js';
export * from './request-digest.js';
export * from './semantic-index.js';
export * from './vector-codec.js';
