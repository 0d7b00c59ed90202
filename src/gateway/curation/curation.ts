/**
 * @module gateway/curation/curation
 * A checked curation document (read-curation.ts) compiled for the gateway it curates: a single
 * upstream's items under their own names, a federation's under the names it publishes them by
 * (`NAME__tool`), so the curation stage looks each name up once (docs/CURATION.md).
 */
import { normalizeResourceUri } from '../../protocol/resource-uri.js';
import type { CurationDocument, PinMode, PromptCuration, ServerCuration, ToolCuration } from './curation-document.js';
import { type CuratedItem, CuratedNames } from './curated-names.js';
import { CurationError } from './read-curation.js';

/** What the curation is compiled against: the gateway's servers, and the names they publish. */
export interface CurationLayout {
  /** A federation's server names; undefined for a single upstream. */
  readonly servers?: readonly string[];
  /** How a federation publishes a server's tool or prompt (`NAME__tool`). */
  join?(server: string, name: string): string;
}

/** A resource's curation, compiled. */
export interface CuratedResource {
  readonly hidden: boolean;
  readonly title: string | undefined;
  readonly description: CuratedItem['description'];
}

export interface Curation {
  readonly tools: CuratedNames;
  readonly prompts: CuratedNames;
  /** By normalized URI. */
  readonly resources: ReadonlyMap<string, CuratedResource>;
  /** What curating lists and calls is needed for (false: the stage is left out). */
  readonly curates: boolean;
  /** A server's pin mode (undefined: the single upstream). */
  pinMode(server: string | undefined): PinMode;
}

export function compileCuration(document: CurationDocument, layout: CurationLayout = {}): Curation {
  const problems: string[] = [];
  const tools = new CuratedNames();
  const prompts = new CuratedNames();
  const resources = new Map<string, CuratedResource>();
  const modes = new Map<string | undefined, PinMode>();
  const fallback = document.pin ?? 'off';
  const compileServer = (server: string | undefined, part: ServerCuration, where: string): void => {
    const published = (name: string): string => (server === undefined || !layout.join ? name : layout.join(server, name));
    modes.set(server, part.pin ?? fallback);
    for (const [name, tool] of Object.entries(part.tools ?? {}))
      problems.push(...added(tools, item(published(name), tool), `${where}/tools/${name}`));
    for (const [name, prompt] of Object.entries(part.prompts ?? {}))
      problems.push(...added(prompts, item(published(name), prompt), `${where}/prompts/${name}`));
    for (const [uri, resource] of Object.entries(part.resources ?? {})) {
      const normal = normalizeResourceUri(uri);
      if ('refused' in normal) problems.push(`${where}/resources/${uri} is not a resource URI the gateway can match: ${normal.refused}`);
      else resources.set(normal.uri, { hidden: resource.hidden ?? false, title: resource.title, description: resource.description });
    }
  };
  if (layout.servers) {
    if (document.tools || document.prompts || document.resources)
      problems.push('/ names tools, prompts or resources outside "servers": behind a federation each belongs to a server');
    for (const [server, part] of Object.entries(document.servers ?? {})) {
      if (!layout.servers.includes(server)) problems.push(`/servers/${server} is not a server of this gateway`);
      else compileServer(server, part, `/servers/${server}`);
    }
  } else {
    if (document.servers) problems.push('/servers: this gateway fronts one upstream; curate its items at the top');
    compileServer(undefined, document, '');
  }
  if (problems.length > 0) throw new CurationError('curation', problems);
  return {
    tools,
    prompts,
    resources,
    curates: tools.size + prompts.size + resources.size > 0,
    pinMode: (server) => modes.get(server) ?? fallback,
  };
}

function item(inner: string, curation: ToolCuration | PromptCuration): CuratedItem {
  // Without a prototype: an argument may be called anything, `__proto__` included.
  const fixed = Object.create(null) as Record<string, unknown>;
  const defaults = Object.create(null) as Record<string, unknown>;
  for (const [name, setting] of Object.entries(curation.arguments ?? {})) {
    if ('fixed' in setting) fixed[name] = setting.fixed;
    else defaults[name] = setting.default;
  }
  return {
    inner,
    outer: curation.name ?? inner,
    hidden: curation.hidden ?? false,
    title: curation.title,
    description: curation.description,
    fixed,
    defaults,
    setsArguments: Object.keys(fixed).length + Object.keys(defaults).length > 0,
    annotations: 'annotations' in curation ? curation.annotations : undefined,
  };
}

function added(names: CuratedNames, curated: CuratedItem, where: string): string[] {
  const problem = names.add(curated);
  return problem ? [`${where}: ${problem}`] : [];
}
