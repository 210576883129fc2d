/** POST /invocations/:id/redrive — queues a failed or dead async/cron invocation again (same id). */
import { KumoError } from '../../core/index.ts';
import { sendJson, type Route, type RouteContext } from '../../http/index.ts';
import type { InvocationStore, QueueStore } from '../../store/index.ts';
import { mustGetInvocation, summaryView } from './history.ts';

/** What redrive needs. */
export interface RedriveDeps {
  invocations: InvocationStore;
  queue: QueueStore;
  /** Retries of the function's active version (2 when it is gone). */
  retries: (fn: string) => number;
  wakeQueue: () => void;
  now: () => number;
}

/** POST /invocations/:id/redrive. */
export function redriveRoute(d: RedriveDeps): Route {
  return {
    method: 'POST',
    path: '/invocations/:id/redrive',
    scope: 'deploy',
    tag: 'invocations',
    summary: 'Queue a failed or dead async or cron invocation again, under the same id',
    handler: redriveHandler(d),
  };
}

function redriveHandler(d: RedriveDeps) {
  return async ({ res, params }: RouteContext) => {
    const current = await mustGetInvocation(d.invocations, params.id ?? '');
    if (current.trigger === 'http') {
      throw new KumoError(
        'conflict',
        `invocation ${current.id} was a sync request: its client has its answer, there is nothing to redrive`,
      );
    }
    if (current.status !== 'failed' && current.status !== 'dead') {
      throw new KumoError(
        'conflict',
        `invocation ${current.id} is ${current.status}: only failed or dead invocations can be redriven`,
      );
    }
    const r = await d.queue.redrive(current.id, d.now(), d.retries(current.function) + 1);
    if (!r) throw new KumoError('conflict', `invocation ${current.id} changed state meanwhile; try again`);
    d.wakeQueue();
    sendJson(
      res,
      202,
      { ...summaryView(r), location: `/invocations/${r.id}` },
      { location: `/invocations/${r.id}` },
    );
  };
}
