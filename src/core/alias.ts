/**
 * Aliases: a name (`live`) that points at one version of a function, optionally sending a share
 * of calls to a second version (a canary). A call through an alias is addressed as
 * `/fn/NAME@ALIAS/…` or `NAME--ALIAS.<base domain>`; the version that served it and the alias are
 * recorded in history.
 */
import { KumoError } from './errors.ts';
import { FUNCTION_NAME } from './name.ts';

/**
 * An alias name: a lower-case letter, then letters, digits, `_` and single `-` (32 at most). It
 * starts with a letter so that it never reads as a version number, and has no `--`, the separator
 * of the Host form, nor any character that means something in a path or a host name.
 */
export const ALIAS_NAME = /^[a-z](?:[a-z0-9_]|-(?!-)){0,31}$/;

/** One alias of a function. Times are epoch ms. */
export interface AliasRecord {
  function: string;
  name: string;
  /** The version that serves every call not sent to `canary`. */
  version: number;
  /** A second version and the share of calls (0 < weight < 1) it serves, or null. */
  canary: { version: number; weight: number } | null;
  description: string;
  createdAt: number;
  updatedAt: number;
}

/** Throws invalid_alias unless `name` is an alias name. */
export function assertAliasName(name: string): string {
  if (!ALIAS_NAME.test(name) || name.endsWith('-')) {
    throw new KumoError(
      'invalid_alias',
      `alias name ${JSON.stringify(name.slice(0, 80))} must be 1-32 of a-z, 0-9, "_" and "-", starting with a letter, without "--" and not ending with "-"`,
    );
  }
  return name;
}

/** Throws invalid_alias unless `weight` is a share strictly between 0 and 1. */
export function assertWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight <= 0 || weight >= 1)
    throw new KumoError(
      'invalid_alias',
      `a canary weight must be between 0 and 1, exclusive (got ${weight})`,
    );
  return weight;
}

/** What a request addresses: a function, and maybe a version number or an alias of it. */
export interface QualifiedName {
  name: string;
  qualifier: string | undefined;
}

/** `NAME@QUALIFIER` (the path form) split in two; a plain name has no qualifier. */
export function splitQualified(text: string): QualifiedName {
  const at = text.indexOf('@');
  return at === -1
    ? { name: text, qualifier: undefined }
    : { name: text.slice(0, at), qualifier: text.slice(at + 1) };
}

/**
 * The function and alias a Host label addresses. `NAME--ALIAS` is an alias only when `NAME` is a
 * function name and `ALIAS` an alias name, and no function is called the whole label (`exists`):
 * a deployed function whose name contains `--` keeps its own host.
 */
export function splitHostLabel(label: string, exists: (name: string) => boolean): QualifiedName {
  const cut = label.lastIndexOf('--');
  if (cut <= 0 || exists(label)) return { name: label, qualifier: undefined };
  const name = label.slice(0, cut);
  const alias = label.slice(cut + 2);
  if (!FUNCTION_NAME.test(name) || !ALIAS_NAME.test(alias) || alias.endsWith('-'))
    return { name: label, qualifier: undefined };
  return { name, qualifier: alias };
}

/** The version an alias sends one call to, given a uniform random number in [0, 1). */
export function pickVersion(alias: Pick<AliasRecord, 'version' | 'canary'>, random: number): number {
  return alias.canary && random < alias.canary.weight ? alias.canary.version : alias.version;
}
