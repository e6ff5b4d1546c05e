export { createApp, type AppOptions } from './app.js';
export { parseApiEnv, parseApiKeys } from './config.js';
export { HttpError } from './http-error.js';
export { JobEvents } from './job-events.js';
