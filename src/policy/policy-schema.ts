/**
 * @module policy/policy-schema
 * The policy file's JSON Schema (draft-07): what `--policy` accepts, published with the package
 * as `sessiongate/policy.schema.json` for editors and CI. docs/POLICY.md explains each field.
 */

const stringList = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 } as const;
const duration = { type: 'string', pattern: '^\\d+(ms|s|m|h|d)$' } as const;

export const POLICY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'urn:sessiongate:policy:v1',
  title: 'Sessiongate policy',
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: {
    $schema: { type: 'string' },
    default: {
      enum: ['allow', 'deny'],
      description: 'For tools/call, resources/read|subscribe, prompts/get, completion/complete when no rule matches. Default: deny.',
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'effect'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 128 },
          effect: { enum: ['allow', 'deny', 'approve'] },
          description: { type: 'string' },
          issuers: {
            ...stringList,
            description:
              "Issuers (iss) of the callers the rule is about. Default: the gateway's first --issuer, for rules naming subjects, claims, scopes or clients.",
          },
          subjects: stringList,
          claims: {
            type: 'object',
            additionalProperties: {
              oneOf: [
                { type: ['string', 'number', 'boolean'] },
                { type: 'array', items: { type: ['string', 'number', 'boolean'] }, minItems: 1 },
              ],
            },
          },
          scopes: stringList,
          clients: stringList,
          anonymous: { type: 'boolean' },
          tools: stringList,
          resources: stringList,
          prompts: stringList,
          methods: stringList,
          servers: { ...stringList, description: 'Federated server names: the rule is about calls to these servers only.' },
          connections: {
            ...stringList,
            description:
              'Servers (globs) people connect with their own credentials (docs/CREDENTIALS.md): the rule is about connecting them and using the connection. allow or deny only.',
          },
          requires: {
            ...stringList,
            description:
              'Servers the caller must have connected with their own credentials (docs/CREDENTIALS.md) for an allow or approve to let the call on.',
          },
          arguments: { type: 'object', description: 'A JSON Schema the call arguments must satisfy for the rule to apply.' },
          reason: { type: 'string', maxLength: 500 },
          approver: { enum: ['user', 'operator'] },
          remember: duration,
          rateLimit: {
            type: 'object',
            additionalProperties: false,
            required: ['requests', 'per'],
            properties: {
              requests: { type: 'integer', minimum: 1 },
              per: duration,
              key: { enum: ['principal', 'principal+tool'] },
            },
          },
        },
      },
    },
  },
} as const;
