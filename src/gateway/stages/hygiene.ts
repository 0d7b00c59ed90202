/**
 * @module gateway/stages/hygiene
 * The gateway's outermost step (docs/SECURITY.md, "Decided on the normal form"): every request
 * reaches the audit, the policy, a federation's routing and the upstream in the one form the
 * upstream acts on (protocol/request-hygiene.ts), or is refused there; every client message
 * loses what it put under the gateway's own identity key.
 */
import { normalizedRequest, withoutForgedIdentity } from '../../protocol/request-hygiene.js';
import { type McpApplication, plainApplication } from '../../server/application.js';

export function hygienic(application: McpApplication): McpApplication {
  const inner = plainApplication(application);
  return {
    ...inner,
    handle(request, context) {
      let settled;
      try {
        settled = normalizedRequest(request);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return inner.handle(settled, context);
    },
    receive: (message, context) => inner.receive(withoutForgedIdentity(message), context),
  };
}
