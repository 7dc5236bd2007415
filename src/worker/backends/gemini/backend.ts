// The `gemini` backend's implementation: the generic CLI runner with Gemini CLI's invocation and
// stream parser, and its chat recordings tailed for usage per model request (its stream-json
// reports usage only at the end). What the rest of fileswarm knows of it is ./descriptor.ts.
import { CliBackend } from '../cli/cli-backend.js';
import { geminiChatFiles, geminiInvocation } from './invocation.js';
import { GeminiStream } from './stream.js';

/** Runs an attempt with Gemini CLI. */
export const GEMINI_BACKEND = new CliBackend<GeminiStream>({
  name: 'gemini',
  bin: 'gemini',
  invocation: geminiInvocation,
  stream: (opts) => new GeminiStream(opts),
  usageRecords: { files: geminiChatFiles, push: (stream, line) => stream.pushChatRecord(line) },
});
