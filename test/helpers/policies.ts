/**
 * Policies the policy tests share.
 */

/** The minimal form docs/POLICY.md promises to keep working exactly. */
export const MINIMAL_POLICY = {
  default: 'deny',
  rules: [
    { id: 'alice-echo', effect: 'allow', subjects: ['alice'], tools: ['echo'] },
    { id: 'alice-slow', effect: 'approve', subjects: ['alice'], tools: ['slow'] },
    { id: 'bob-out', effect: 'deny', subjects: ['bob'], tools: ['*'], reason: 'account suspended' },
    { id: 'ops-all', effect: 'allow', claims: { groups: 'ops' }, tools: ['*'] },
    { id: 'carol-echo', effect: 'allow', subjects: ['carol'], tools: ['echo'], rateLimit: { requests: 3, per: '1m' } },
  ],
};
