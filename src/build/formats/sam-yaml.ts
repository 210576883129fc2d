/**
 * Reading a CloudFormation / SAM template's text (YAML or JSON) into plain data, safely:
 *   - CloudFormation's short tags (`!Ref X`, `!Sub …`, `!GetAtt A.B`) become their long form
 *     (`{Ref: X}`, `{"Fn::Sub": …}`, `{"Fn::GetAtt": ["A", "B"]}`), so later code sees one shape;
 *   - anchors and aliases are expanded by hand with a budget on the nodes produced and on depth,
 *     so a "billion laughs" document is refused after MAX_NODES instead of eating the memory;
 *   - duplicate keys, YAML errors and an oversized file are invalid_manifest naming the file.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { KumoError } from '../../core/index.ts';

/** CloudFormation accepts templates up to 1 MB (from S3); kumo reads no more. */
export const MAX_TEMPLATE_BYTES = 1024 * 1024;
/** Values (scalars, lists, mappings) one template may expand to, aliases included. */
export const MAX_NODES = 200_000;
/** Nesting depth of one template. */
export const MAX_DEPTH = 64;

/** Parses `text` (the template `file`) into plain data with intrinsic functions in long form. */
export function loadTemplate(text: string, file: string): unknown {
  if (Buffer.byteLength(text) > MAX_TEMPLATE_BYTES) {
    throw new KumoError('invalid_manifest', `${file}: larger than ${MAX_TEMPLATE_BYTES} bytes`);
  }
  let doc: Document.Parsed;
  try {
    // Aliases stay unexpanded in the document; convert() expands them within its budget.
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    throw new KumoError('invalid_manifest', `${file}: not valid YAML: ${firstLine(err)}`);
  }
  const error = doc.errors[0];
  if (error) throw new KumoError('invalid_manifest', `${file}: not valid YAML: ${firstLine(error)}`);
  const budget = { nodes: 0 };
  return convert(doc, doc.contents, file, budget, 0);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** One node of the document as plain data. */
function convert(
  doc: Document.Parsed,
  node: unknown,
  file: string,
  budget: { nodes: number },
  depth: number,
): unknown {
  if (++budget.nodes > MAX_NODES) {
    throw new KumoError(
      'invalid_manifest',
      `${file}: expands to more than ${MAX_NODES} values (anchors and aliases included); kumo refuses it`,
    );
  }
  if (depth > MAX_DEPTH)
    throw new KumoError('invalid_manifest', `${file}: nested deeper than ${MAX_DEPTH} levels`);
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(doc);
    if (target === undefined)
      throw new KumoError('invalid_manifest', `${file}: alias *${node.source} has no anchor`);
    return convert(doc, target, file, budget, depth + 1);
  }
  let value: unknown;
  if (isScalar(node)) value = node.value;
  else if (isSeq(node)) value = node.items.map((item) => convert(doc, item, file, budget, depth + 1));
  else if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = convert(doc, pair.key, file, budget, depth + 1);
      if (typeof key !== 'string' && typeof key !== 'number') {
        throw new KumoError('invalid_manifest', `${file}: mapping keys must be strings`);
      }
      // `<<` merge keys are YAML 1.1; CloudFormation does not know them either.
      Object.defineProperty(out, String(key), {
        value: convert(doc, pair.value, file, budget, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    value = out;
  } else {
    throw new KumoError('invalid_manifest', `${file}: an unreadable YAML node`);
  }
  const tag = (node as { tag?: unknown }).tag;
  return typeof tag === 'string' && tag.startsWith('!') && !tag.startsWith('!!')
    ? longForm(tag.slice(1), value)
    : value;
}

/** `!Ref X` → `{Ref: X}`, `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`, `!Name v` → `{"Fn::Name": v}`. */
function longForm(name: string, value: unknown): Record<string, unknown> {
  if (name === 'Ref' || name === 'Condition') return { [name]: value };
  if (name === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': dot === -1 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}
