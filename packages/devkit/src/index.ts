export * from './app-process.js';
export * from './free-port.js';
export * from './redis-server.js';
export * from './llmq-stack.js';
export * from './hostile-inputs.js';
export * from './redis-cluster.js';
