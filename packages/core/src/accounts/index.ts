export * from './prompt-prefix.js';
export * from './provider-accounts.js';
