/**
 * @module gateway/curation/curation-document
 * What `--curation FILE` holds (docs/CURATION.md): per server, how its tools, prompts and
 * resources are shown to clients (renamed, re-described, hidden, arguments fixed or defaulted,
 * annotations) and whether its tool definitions are pinned. Checked by curation-schema.ts.
 */

/** What the gateway does when a pinned tool's definition changes (docs/CURATION.md, "Pinning"). */
export type PinMode = 'strict' | 'warn' | 'off';

/** A description replaced (a string), or added to. */
export type DescriptionChange = string | { prepend?: string; append?: string };

/** One argument the gateway sets: `fixed` (the caller cannot give another; gone from the schema) or `default` (used when the caller gives none). */
export type ArgumentSetting = { fixed: unknown } | { default: unknown };

export interface ToolCuration {
  /** The name clients see (and call); replaces the federation's `NAME__tool` too. */
  name?: string;
  title?: string;
  description?: DescriptionChange;
  /** Not listed, and a call to it answered as a call to a tool that does not exist. */
  hidden?: boolean;
  arguments?: Record<string, ArgumentSetting>;
  /** Merged over the server's own (the operator's win): `readOnlyHint`, `destructiveHint`... */
  annotations?: Record<string, unknown>;
}

export interface PromptCuration {
  name?: string;
  title?: string;
  description?: DescriptionChange;
  hidden?: boolean;
  /** Prompt arguments are strings. */
  arguments?: Record<string, { fixed: string } | { default: string }>;
}

/** A resource, by its exact (normalized) URI. */
export interface ResourceCuration {
  title?: string;
  description?: DescriptionChange;
  /** Not listed, and a read of it answered as a read of a resource that does not exist. */
  hidden?: boolean;
}

export interface ServerCuration {
  /** Default: the document's `pin`, else `off`. */
  pin?: PinMode;
  tools?: Record<string, ToolCuration>;
  prompts?: Record<string, PromptCuration>;
  resources?: Record<string, ResourceCuration>;
}

/**
 * A single upstream's curation at the top; a federation's under `servers`, by server name (its
 * own names, before `NAME__`). `pin` at the top is every server's default.
 */
export interface CurationDocument extends ServerCuration {
  $schema?: string;
  servers?: Record<string, ServerCuration>;
}
