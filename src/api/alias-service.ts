/**
 * Aliases of functions as one service for every client: kumo's control API (routes/aliases.ts,
 * `kumo alias`) and the Lambda API (lambda/). A write is one atomic store write followed by a
 * refresh of the function's routing state, so the next call sees the whole new alias.
 */
import { assertAliasName, assertWeight, KumoError, type AliasRecord } from '../core/index.ts';
import type { ActiveVersions, AliasStore, FunctionStore } from '../store/index.ts';

/** What an alias write asks for. */
export interface AliasInput {
  version: number;
  canary?: { version: number; weight: number } | null | undefined;
  description?: string | undefined;
}

/** Whether a write may create, replace, or both. */
export type AliasWriteMode = 'create' | 'update' | 'put';

/** What the service needs. */
export interface AliasServiceDeps {
  store: FunctionStore;
  aliases: AliasStore;
  versions: ActiveVersions;
  now: () => number;
}

/** Longest alias description. */
const MAX_DESCRIPTION = 256;

/** Creates, reads, updates and deletes aliases. */
export class AliasService {
  private readonly d: AliasServiceDeps;

  constructor(deps: AliasServiceDeps) {
    this.d = deps;
  }

  /** The aliases of `fn` (function_not_found when it is not deployed). */
  async list(fn: string): Promise<AliasRecord[]> {
    await this.mustFunction(fn);
    return this.d.aliases.listAliases(fn);
  }

  /** One alias, or alias_not_found. */
  async get(fn: string, name: string): Promise<AliasRecord> {
    await this.mustFunction(fn);
    const found = await this.d.aliases.getAlias(fn, name);
    if (!found) throw notFound(fn, name);
    return found;
  }

  /**
   * Writes alias `name` of `fn` in one store write. `create` refuses an existing alias
   * (conflict), `update` a missing one (alias_not_found); `update` keeps what `input` leaves out.
   */
  async write(
    fn: string,
    name: string,
    input: Partial<AliasInput>,
    mode: AliasWriteMode,
  ): Promise<AliasRecord> {
    assertAliasName(name);
    await this.mustFunction(fn);
    const existing = await this.d.aliases.getAlias(fn, name);
    if (existing && mode === 'create')
      throw new KumoError('conflict', `function '${fn}' already has an alias '${name}'`);
    if (!existing && mode === 'update') throw notFound(fn, name);
    const version = input.version ?? existing?.version;
    if (version === undefined)
      throw new KumoError('invalid_alias', `alias '${name}' needs the version it points at`);
    const canary = input.canary === undefined ? (existing?.canary ?? null) : input.canary;
    if (canary) {
      assertWeight(canary.weight);
      if (canary.version === version)
        throw new KumoError(
          'invalid_alias',
          `the canary version of alias '${name}' must differ from its version (${version})`,
        );
    }
    const description = input.description ?? existing?.description ?? '';
    if (description.length > MAX_DESCRIPTION)
      throw new KumoError(
        'invalid_alias',
        `an alias description is at most ${MAX_DESCRIPTION} characters (got ${description.length})`,
      );
    const now = this.d.now();
    const record: AliasRecord = {
      function: fn,
      name,
      version,
      canary,
      description,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (!(await this.d.aliases.putAlias(record))) {
      const missing = [version, ...(canary ? [canary.version] : [])];
      throw new KumoError(
        'invalid_alias',
        `function '${fn}' has no version ${missing.join(' or ')} for alias '${name}' (see kumo versions ${fn})`,
      );
    }
    await this.d.versions.refresh(fn);
    return (await this.d.aliases.getAlias(fn, name)) ?? record;
  }

  /** Deletes an alias (alias_not_found when there is none). */
  async remove(fn: string, name: string): Promise<void> {
    await this.mustFunction(fn);
    if (!(await this.d.aliases.deleteAlias(fn, name))) throw notFound(fn, name);
    await this.d.versions.refresh(fn);
  }

  private async mustFunction(fn: string): Promise<void> {
    if (!(await this.d.store.getFunction(fn)))
      throw new KumoError('function_not_found', `no function named '${fn}' is deployed (see kumo list)`);
  }
}

function notFound(fn: string, name: string): KumoError {
  return new KumoError(
    'alias_not_found',
    `function '${fn}' has no alias ${JSON.stringify(name.slice(0, 80))} (see kumo alias ${fn})`,
  );
}
