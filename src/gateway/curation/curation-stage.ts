/**
 * @module gateway/curation/curation-stage
 * The curation stage (docs/CURATION.md): lists shown as curated (renamed, re-described, hidden,
 * fixed arguments gone from the schema), and calls turned back into the form the upstream side
 * publishes (its names, the fixed and default arguments set) before the policy and the upstream
 * see them: a rule is decided on what the upstream acts on, never on a curated alias
 * (docs/SECURITY.md, "Decided on the normal form"). Inside the audit, which names both.
 */
import { errorResponse } from '../../protocol/answers.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import { mapResponse, type Reply, type RequestContext } from '../../server/application.js';
import { RequestKey } from '../../server/request-key.js';
import type { Stage } from '../../server/stage.js';
import { canonicalJson } from '../audit-log/canonical-json.js';
import { normalizeResourceUri } from '../../protocol/resource-uri.js';
import { resourceNotFound } from '../federation/request-routes.js';
import { type CuratedItem, type CuratedNames, describe } from './curated-names.js';
import type { Curation, CuratedResource } from './curation.js';

/** The request as the curation handed it on (the upstream side's name, arguments set), when it changed it: the audit names both. */
export const UPSTREAM_FORM = new RequestKey<JsonRpcRequest>('curation.upstream-form');

type Next = (request: JsonRpcRequest, context: RequestContext) => Promise<Reply>;

export function curationStage(curation: Curation): Stage {
  const { tools, prompts, resources } = curation;
  return {
    name: 'curation',
    handle(request, context, next) {
      switch (request.method) {
        case 'tools/list':
          if (tools.size === 0) return next(request, context);
          return next(request, context).then((reply) => mapResponse(reply, (response) => listed(response, 'tools', tools, shownTool)));
        case 'prompts/list':
          if (prompts.size === 0) return next(request, context);
          return next(request, context).then((reply) =>
            mapResponse(reply, (response) => listed(response, 'prompts', prompts, shownPrompt)),
          );
        case 'resources/list':
          if (resources.size === 0) return next(request, context);
          return next(request, context).then((reply) => mapResponse(reply, (response) => listedResources(response, resources)));
        case 'tools/call':
          return called(request, context, next, tools, 'tool');
        case 'prompts/get':
          return called(request, context, next, prompts, 'prompt');
        case 'completion/complete':
          return completed(request, context, next, prompts);
        case 'resources/read':
        case 'resources/subscribe':
        case 'resources/unsubscribe': {
          // The URI is in its normal form already (hygiene is outside this stage).
          const uri = request.params?.['uri'];
          if (typeof uri === 'string' && resources.get(uri)?.hidden) return Promise.resolve(resourceNotFound(request, uri));
          return next(request, context);
        }
        default:
          return next(request, context);
      }
    },
  };
}

/** A call by a client's name: on with the upstream side's name and the arguments the gateway sets, or refused. */
function called(request: JsonRpcRequest, context: RequestContext, next: Next, names: CuratedNames, kind: string): Promise<Reply> {
  const params = request.params ?? {};
  const name = params['name'];
  if (typeof name !== 'string') return next(request, context);
  const found = names.called(name);
  if (found === undefined) return next(request, context);
  if (found === 'unknown') return Promise.resolve(errorResponse(request.id, 'SG_BAD_PARAMS', `Unknown ${kind}: ${name}`));
  const args = argumentsFor(found, params['arguments']);
  if (typeof args === 'string') return Promise.resolve(errorResponse(request.id, 'SG_ARGUMENT_FIXED', args));
  const upstream: JsonRpcRequest = { ...request, params: { ...params, name: found.inner, ...(args && { arguments: args }) } };
  context.set(UPSTREAM_FORM, upstream);
  return next(upstream, context);
}

/** A prompt's completion names the prompt as clients know it. */
function completed(request: JsonRpcRequest, context: RequestContext, next: Next, names: CuratedNames): Promise<Reply> {
  const ref = request.params?.['ref'];
  if (!isObject(ref) || ref['type'] !== 'ref/prompt' || typeof ref['name'] !== 'string') return next(request, context);
  const found = names.called(ref['name']);
  if (found === undefined) return next(request, context);
  if (found === 'unknown') return Promise.resolve(errorResponse(request.id, 'SG_BAD_PARAMS', `Unknown prompt: ${ref['name']}`));
  const upstream: JsonRpcRequest = { ...request, params: { ...request.params, ref: { ...ref, name: found.inner } } };
  context.set(UPSTREAM_FORM, upstream);
  return next(upstream, context);
}

/**
 * The arguments the upstream gets: the defaults, the caller's, then the fixed ones; a caller
 * who gives a fixed argument another value is refused (it would be silently replaced), not
 * corrected. Undefined when there are none.
 */
function argumentsFor(item: CuratedItem, given: unknown): JsonObject | undefined | string {
  if (given !== undefined && !isObject(given)) return 'Invalid params: arguments must be an object';
  if (!item.setsArguments) return given;
  const fixed = Object.entries(item.fixed);
  const args = merged(item.defaults as JsonObject, given ?? {});
  for (const [key, value] of fixed) {
    if (given !== undefined && Object.hasOwn(given, key) && canonicalJson(given[key]) !== canonicalJson(value))
      return `Invalid params: argument "${key}" is set by the gateway and cannot be given another value`;
    setOwn(args, key, value);
  }
  return args;
}

/** A list's answer as clients see it: each entry shown as curated, or not at all. */
function listed(
  response: JsonRpcResponse,
  field: 'tools' | 'prompts',
  names: CuratedNames,
  show: (entry: JsonObject, item: CuratedItem) => JsonObject,
): JsonRpcResponse {
  const entries = 'result' in response ? response.result[field] : undefined;
  if (!('result' in response) || !Array.isArray(entries)) return response;
  const shown: unknown[] = [];
  for (const entry of entries) {
    const name = isObject(entry) ? entry['name'] : undefined;
    const item = typeof name === 'string' ? names.listed(name) : undefined;
    if (item === 'unlisted') continue;
    shown.push(item ? show(entry as JsonObject, item) : entry);
  }
  return { ...response, result: { ...response.result, [field]: shown as JsonObject[] } };
}

/**
 * A listed tool as curated. Built with `Object.assign` from one object of the changes: a spread
 * followed by a property the tool lacks (`annotations`, `title`) costs about 0.7 µs a tool on
 * Node 20, ten times this (bench/RESULTS.md, "Issue 41").
 */
function shownTool(tool: JsonObject, item: CuratedItem): JsonObject {
  const changes: JsonObject = { name: item.outer };
  shownText(changes, tool, item);
  if (item.annotations)
    changes['annotations'] = merged(isObject(tool['annotations']) ? tool['annotations'] : {}, item.annotations as JsonObject);
  if (item.setsArguments && isObject(tool['inputSchema'])) changes['inputSchema'] = schemaShown(tool['inputSchema'], item);
  return merged(tool, changes);
}

/** The input schema without the fixed arguments, the defaulted ones optional with their default. */
function schemaShown(schema: JsonObject, item: CuratedItem): JsonObject {
  const properties: JsonObject = merged(isObject(schema['properties']) ? schema['properties'] : {}, {});
  for (const key of Object.keys(item.fixed)) delete properties[key];
  for (const [key, value] of Object.entries(item.defaults)) {
    const property = properties[key];
    setOwn(properties, key, merged(isObject(property) ? property : {}, { default: value as JsonObject[string] }));
  }
  const changes: JsonObject = { properties };
  if (Array.isArray(schema['required']))
    changes['required'] = schema['required'].filter((key) => typeof key !== 'string' || (!(key in item.fixed) && !(key in item.defaults)));
  return merged(schema, changes);
}

function shownPrompt(prompt: JsonObject, item: CuratedItem): JsonObject {
  const changes: JsonObject = { name: item.outer };
  shownText(changes, prompt, item);
  if (item.setsArguments && Array.isArray(prompt['arguments']))
    changes['arguments'] = prompt['arguments']
      .filter((argument) => !isObject(argument) || typeof argument['name'] !== 'string' || !(argument['name'] in item.fixed))
      .map((argument) =>
        isObject(argument) && typeof argument['name'] === 'string' && argument['name'] in item.defaults
          ? merged(argument, { required: false })
          : argument,
      );
  return merged(prompt, changes);
}

/** The curated title and description of `original`, put in `changes`. */
function shownText(changes: JsonObject, original: JsonObject, item: Pick<CuratedItem, 'title' | 'description'>): void {
  if (item.title !== undefined) changes['title'] = item.title;
  if (item.description !== undefined) changes['description'] = describe(original['description'], item.description) as string;
}

function listedResources(response: JsonRpcResponse, resources: ReadonlyMap<string, CuratedResource>): JsonRpcResponse {
  const entries = 'result' in response ? response.result['resources'] : undefined;
  if (!('result' in response) || !Array.isArray(entries)) return response;
  const shown: unknown[] = [];
  for (const entry of entries) {
    const uri = isObject(entry) && typeof entry['uri'] === 'string' ? normalUri(entry['uri']) : undefined;
    const curated = uri === undefined ? undefined : resources.get(uri);
    if (curated?.hidden) continue;
    if (!curated) {
      shown.push(entry);
      continue;
    }
    const changes: JsonObject = {};
    shownText(changes, entry as JsonObject, curated);
    shown.push(merged(entry as JsonObject, changes));
  }
  return { ...response, result: { ...response.result, resources: shown as JsonObject[] } };
}

/** A listed URI as the curation's keys are written (a URI with no normal form stays as listed, and matches nothing curated). */
function normalUri(uri: string): string {
  const normal = normalizeResourceUri(uri);
  return 'uri' in normal ? normal.uri : uri;
}

/**
 * `original` with `changes` over it. `Object.assign` onto a fresh object is the fast way (see
 * shownTool); a member named `__proto__` (a server or a caller may send one) would become the
 * copy's prototype that way, so then the two are spread instead.
 */
function merged(original: JsonObject, changes: JsonObject): JsonObject {
  return Object.hasOwn(original, '__proto__') || Object.hasOwn(changes, '__proto__')
    ? { ...original, ...changes }
    : Object.assign({}, original, changes);
}

/** `object[key] = value` as an own member, whatever the key (`__proto__` too: the curation's names are any the server uses). */
function setOwn(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}
