/**
 * @module gateway/stages/hygiene
 * The gateway's outermost stage (docs/SECURITY.md, "Decided on the normal form"): every request
 * reaches the audit, the policy, a federation's routing and the upstream in the one form the
 * upstream acts on (protocol/request-hygiene.ts), or is refused there; every client message
 * loses what it put under the gateway's own identity key.
 */
import { normalizedRequest, withoutForgedIdentity } from '../../protocol/request-hygiene.js';
import type { McpApplication } from '../../server/application.js';
import { compose, type Stage } from '../../server/stage.js';

export const hygieneStage: Stage = {
  name: 'hygiene',
  handle(request, context, next) {
    let settled;
    try {
      settled = normalizedRequest(request);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return next(settled, context);
  },
  receive: (message, context, next) => next(withoutForgedIdentity(message), context),
};

/** `application` behind the hygiene stage alone. */
export function hygienic(application: McpApplication): McpApplication {
  return compose(application, [hygieneStage]);
}
