/**
 * Which invocation a log line belongs to. Runtimes tag lines written through their logging API;
 * an untagged line (a raw write to stdout) belongs to the instance's invocation when it serves
 * exactly one, and to none when it serves several or is idle.
 */

/** Tracks the invocations each instance is serving. */
export class InvocationTracker {
  private readonly byInstance: Map<string, Set<string>> = new Map();

  /** An instance starts serving an invocation. */
  begin(instanceId: string, invocationId: string): void {
    let set = this.byInstance.get(instanceId);
    if (!set) this.byInstance.set(instanceId, (set = new Set()));
    set.add(invocationId);
  }

  /** An instance is done with an invocation. */
  end(instanceId: string, invocationId: string): void {
    const set = this.byInstance.get(instanceId);
    if (!set) return;
    set.delete(invocationId);
    if (!set.size) this.byInstance.delete(instanceId);
  }

  /** The one invocation `instanceId` is serving, or null. */
  sole(instanceId: string): string | null {
    const set = this.byInstance.get(instanceId);
    if (!set || set.size !== 1) return null;
    return set.values().next().value ?? null;
  }
}
