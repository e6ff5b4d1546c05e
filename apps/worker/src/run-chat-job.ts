import {
  chatJobUsage,
  checkStructuredOutput,
  prepareStructuredOutput,
  type CallOptions,
  type ChatCompletionResult,
  type ChatJobSubmission,
  type ChatModel,
  type JobUsage,
} from '@llmq/core';

export interface JobOutcome<T> {
  result: T;
  usage: JobUsage;
}

export async function runChatJob(
  submission: ChatJobSubmission,
  model: ChatModel,
  options: CallOptions,
): Promise<JobOutcome<ChatCompletionResult>> {
  prepareStructuredOutput(submission.request, model.provider);
  const completion = await model.doGenerate(submission.request, options);
  checkStructuredOutput(submission.request, completion);
  return { result: completion, usage: chatJobUsage(completion.usage) };
}
