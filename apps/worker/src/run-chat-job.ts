import type { CallOptions, ChatCompletionResult, ChatJobSubmission, ChatModel, JobUsage } from '@llmq/core';

export interface JobOutcome<T> {
  result: T;
  usage: JobUsage;
}

export async function runChatJob(
  submission: ChatJobSubmission,
  model: ChatModel,
  options: CallOptions,
): Promise<JobOutcome<ChatCompletionResult>> {
  const completion = await model.doGenerate(submission.request, options);
  return {
    result: completion,
    usage: { input_tokens: completion.usage.prompt_tokens, output_tokens: completion.usage.completion_tokens },
  };
}
