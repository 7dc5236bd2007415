// Error answers of the HTTP API: always JSON `{error: {code, message, issues?}}` with the status
// that says what went wrong.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { InputIssue } from '../config/source.js';

/** The body of every error answer. */
export interface ErrorBody {
  error: {
    /** A stable, kebab-case name: `bad-request`, `unknown-run`, `too-large`, `too-many-runs`, ... */
    code: string;
    /** For humans; several lines when there are several issues. */
    message: string;
    /** Located issues of a config or plan (file, line, col, field, message), or of the request body (field, message). */
    issues?: InputIssue[];
  };
}

/** Answers `status` with `{error: {code, message, issues?}}`. */
export function fail(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  issues?: InputIssue[],
): FastifyReply {
  const body: ErrorBody = { error: { code, message, ...(issues ? { issues } : {}) } };
  return reply.status(status).send(body);
}

/** Codes of the errors Fastify and its plugins raise, by status. */
const CODE_OF_STATUS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  404: 'not-found',
  413: 'too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
};

/**
 * The server's error handler: a request that failed its schema is a 400 whose issues name each
 * field (`body.goal`, `params.id`); a body over the limit a 413; the rate limit a 429; anything
 * else a 500 with its message (never a stack trace).
 */
export function handleError(error: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request';
    const issues: InputIssue[] = error.validation.map((v) => {
      const field = `${where}${v.instancePath.replaceAll('/', '.')}`; // `body.goal`, `params.id`
      return { file: `${req.method} ${req.url.split('?')[0]}`, field, message: v.message ?? 'invalid' };
    });
    return fail(reply, 400, 'bad-request', issues.map((i) => `${i.field}: ${i.message}`).join('\n'), issues);
  }
  const status = error.statusCode ?? 500;
  return fail(reply, status, CODE_OF_STATUS[status] ?? (status >= 500 ? 'internal' : 'error'), error.message);
}
