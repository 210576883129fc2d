/** queue: durable async invocations — leases, retries with backoff, dead letters, callbacks. */
export {
  AsyncQueue,
  type AsyncQueueOptions,
  type EnqueueInput,
  type FunctionQueueSettings,
  type QueueRunner,
  type QueueJob,
  type QueueJobResult,
} from './async-queue.ts';
export {
  CallbackDispatcher,
  callbackBody,
  outputOf,
  type CallbackBody,
  type CallbackDispatcherOptions,
} from './callbacks.ts';
export { CallbackPolicy } from './callback-policy.ts';
export { backoffDelay } from './backoff.ts';
