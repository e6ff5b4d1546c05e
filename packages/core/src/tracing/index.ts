export * from './gen-ai-attributes.js';
export * from './llmq-tracer.js';
export * from './trace-context.js';
export * from './trace-export.js';
