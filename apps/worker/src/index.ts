export { createLlmJobProcessor, type LlmJobProcessorOptions } from './llm-job/llm-job-processor.js';
export { ModelRouter } from './model-router.js';
export { parseWorkerEnv } from './config.js';
