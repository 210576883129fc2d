/**
 * Lambda's errors: kumo's error codes mapped to the names, statuses and body shape of AWS
 * Lambda's REST API (`X-Amzn-ErrorType` header, `{"Type": "User", "Message": "…"}` body), so an
 * SDK's error classes, retries (TooManyRequestsException, 5xx) and error handling work as on AWS.
 */
import type { ServerResponse } from 'node:http';
import { KumoError, toKumoError, type ErrorCode } from '../core/index.ts';

/** A Lambda error name with its HTTP status and fault side. */
interface LambdaError {
  type: string;
  status: number;
  fault: 'User' | 'Service';
}

const user = (type: string, status: number): LambdaError => ({ type, status, fault: 'User' });
const service = (type: string, status: number): LambdaError => ({ type, status, fault: 'Service' });

/** kumo's codes → Lambda's error names; anything else is a ServiceException (500). */
const BY_CODE: Partial<Record<ErrorCode, LambdaError>> = {
  bad_request: user('InvalidParameterValueException', 400),
  invalid_manifest: user('InvalidParameterValueException', 400),
  invalid_name: user('InvalidParameterValueException', 400),
  invalid_archive: user('InvalidParameterValueException', 400),
  unknown_handler: user('InvalidParameterValueException', 400),
  invalid_alias: user('InvalidParameterValueException', 400),
  source_failed: user('InvalidParameterValueException', 400),
  build_failed: user('InvalidParameterValueException', 400),
  invalid_signature: user('InvalidSignatureException', 403),
  unrecognized_client: user('UnrecognizedClientException', 403),
  unauthorized: user('UnrecognizedClientException', 403),
  forbidden: user('AccessDeniedException', 403),
  function_not_found: user('ResourceNotFoundException', 404),
  version_not_found: user('ResourceNotFoundException', 404),
  alias_not_found: user('ResourceNotFoundException', 404),
  route_not_found: user('UnknownOperationException', 404),
  method_not_allowed: user('UnknownOperationException', 404),
  conflict: user('ResourceConflictException', 409),
  payload_too_large: user('RequestTooLargeException', 413),
  headers_too_large: user('RequestTooLargeException', 413),
  uri_too_long: user('RequestTooLargeException', 413),
  over_capacity: user('TooManyRequestsException', 429),
  queue_full: user('TooManyRequestsException', 429),
  rate_limited: user('TooManyRequestsException', 429),
  deploy_busy: user('TooManyRequestsException', 429),
  server_busy: user('TooManyRequestsException', 429),
  request_timeout: user('InvalidRequestContentException', 400),
  response_too_large: service('ResponseSizeTooLargeException', 413),
  shutting_down: service('ServiceException', 503),
  store_unavailable: service('ServiceException', 503),
};

/** Errors of the Lambda API itself, with no kumo code of their own. */
export class LambdaApiError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, status: number, message: string) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

/** InvalidParameterValueException naming the parameter. */
export function invalidParameter(message: string): LambdaApiError {
  return new LambdaApiError('InvalidParameterValueException', 400, message);
}

/** InvalidRequestContentException: the body is not what the operation takes. */
export function invalidContent(message: string): LambdaApiError {
  return new LambdaApiError('InvalidRequestContentException', 400, message);
}

/** The Lambda name, status and message of any error. */
export function lambdaError(err: unknown): {
  type: string;
  status: number;
  fault: string;
  message: string;
  retryAfter?: number;
} {
  if (err instanceof LambdaApiError)
    return { type: err.type, status: err.status, fault: 'User', message: err.message };
  const k = err instanceof KumoError ? err : toKumoError(err);
  const mapped = BY_CODE[k.code] ?? service('ServiceException', 500);
  const retryAfter = (k.details as { retryAfter?: unknown } | undefined)?.retryAfter;
  return {
    ...mapped,
    message: k.message,
    ...(typeof retryAfter === 'number' ? { retryAfter } : {}),
  };
}

/** Answers with Lambda's error shape; returns the error name. */
export function sendLambdaError(res: ServerResponse, err: unknown, requestId: string): string {
  const e = lambdaError(err);
  if (res.headersSent) {
    res.destroy();
    return e.type;
  }
  const body = Buffer.from(
    JSON.stringify({
      Type: e.fault,
      Message: e.message,
      message: e.message,
      ...(e.type === 'TooManyRequestsException'
        ? { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' }
        : {}),
    }),
  );
  res.writeHead(e.status, {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'x-amzn-errortype': e.type,
    'x-amzn-requestid': requestId,
    ...(e.retryAfter !== undefined ? { 'retry-after': String(e.retryAfter) } : {}),
  });
  res.end(body);
  return e.type;
}
