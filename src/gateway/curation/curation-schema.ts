/**
 * @module gateway/curation/curation-schema
 * The curation file's JSON Schema (draft-07): what `--curation` accepts, published with the
 * package as `sessiongate/curation.schema.json`. docs/CURATION.md explains each field.
 */

/** A curated name as MCP 2025-11-25 (server/tools, "Tool names") says a tool's should be: 1 to 128 of A-Z a-z 0-9 _ - . */
const NAME = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' } as const;
const TEXT = { type: 'string', maxLength: 16_384 } as const;
const DESCRIPTION = {
  oneOf: [TEXT, { type: 'object', additionalProperties: false, minProperties: 1, properties: { prepend: TEXT, append: TEXT } }],
} as const;
const PIN = { enum: ['strict', 'warn', 'off'] } as const;

function argumentsOf(value: object) {
  return {
    type: 'object',
    additionalProperties: {
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['fixed'], properties: { fixed: value } },
        { type: 'object', additionalProperties: false, required: ['default'], properties: { default: value } },
      ],
    },
  } as const;
}

const TOOL = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: NAME,
    title: TEXT,
    description: DESCRIPTION,
    hidden: { type: 'boolean' },
    arguments: argumentsOf({}),
    annotations: { type: 'object' },
  },
} as const;

const PROMPT = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: NAME,
    title: TEXT,
    description: DESCRIPTION,
    hidden: { type: 'boolean' },
    arguments: argumentsOf({ type: 'string' }),
  },
} as const;

const RESOURCE = {
  type: 'object',
  additionalProperties: false,
  properties: { title: TEXT, description: DESCRIPTION, hidden: { type: 'boolean' } },
} as const;

const SERVER_PROPERTIES = {
  pin: PIN,
  tools: { type: 'object', propertyNames: { type: 'string', minLength: 1 }, additionalProperties: TOOL },
  prompts: { type: 'object', propertyNames: { type: 'string', minLength: 1 }, additionalProperties: PROMPT },
  resources: { type: 'object', propertyNames: { type: 'string', minLength: 1 }, additionalProperties: RESOURCE },
} as const;

export const CURATION_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:sessiongate:curation:v1',
  title: 'Sessiongate curation',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    ...SERVER_PROPERTIES,
    servers: {
      type: 'object',
      propertyNames: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' },
      additionalProperties: { type: 'object', additionalProperties: false, properties: SERVER_PROPERTIES },
    },
  },
} as const;
