/**
 * @module cli/gateway/gateway-policy
 * `--policy FILE`: read at start-up (an invalid file stops it, naming every problem), then read
 * again when it changes or on SIGHUP; a valid new policy applies to the next call of every
 * session, an invalid one is refused with its reasons on stderr and the one in force stays
 * (docs/POLICY.md, "Reloading").
 */
import { unwatchFile, watchFile } from 'node:fs';
import { PolicyEvaluator } from '../../policy/evaluator.js';
import { readPolicyFile } from '../../policy/read-policy.js';
import type { PolicySource } from '../../gateway/gateway-options.js';

export interface GatewayPolicy extends PolicySource {
  /** Reads the file again (what a change or SIGHUP does); false when it was refused. */
  reload(): boolean;
  onReload(listener: (previous: PolicyEvaluator) => void): void;
  close(): void;
}

/** `warn` gets each line the command prints to stderr (without the `sessiongate: ` prefix). */
export function gatewayPolicy(path: string, warn: (line: string) => void): GatewayPolicy {
  let current = new PolicyEvaluator(readPolicyFile(path));
  const listeners: ((previous: PolicyEvaluator) => void)[] = [];
  const reload = (): boolean => {
    try {
      const previous = current;
      current = new PolicyEvaluator(readPolicyFile(path));
      warn(`policy reloaded from ${path} (${current.document.rules.length} rules)`);
      for (const listener of listeners) listener(previous);
      return true;
    } catch (error) {
      warn(`--policy: kept the policy in force: ${(error as Error).message}`);
      return false;
    }
  };
  const onChange = (): void => void reload();
  // Polled, not fs.watch: it sees a file an editor replaces, and never keeps the process alive.
  watchFile(path, { persistent: false, interval: 1000 }, onChange);
  process.on('SIGHUP', onChange);
  return {
    current: () => current,
    reload,
    onReload: (listener) => void listeners.push(listener),
    close() {
      unwatchFile(path, onChange);
      process.off('SIGHUP', onChange);
    },
  };
}
