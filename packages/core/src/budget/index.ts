export * from './budget-config-schema.js';
export * from './budget-ledger.js';
export * from './job-cost-estimate.js';
export * from './budget-guard.js';
export * from './budget-setup.js';
