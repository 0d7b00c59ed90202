/**
 * @module cli/gateway/gateway-audit
 * `--audit` and its companions: the hash-chained audit log (docs/AUDIT.md), rotated with
 * `--audit-rotate-size` / `--audit-rotate-interval`, with checkpoints signed by
 * `--audit-signing-key` every `--audit-checkpoint-every` lines, each line naming `--replica-id`.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditLog } from '../../gateway/audit-log/audit-log.js';
import type { GatewayFlags } from './gateway-flags.js';

export function gatewayAudit(flags: GatewayFlags): AuditLog | undefined {
  const rotating = flags.auditRotateBytes !== undefined || flags.auditRotateMs !== undefined;
  if (flags.audit === undefined) {
    if (rotating || flags.auditSigningKey !== undefined)
      throw new Error('--audit-rotate-size, --audit-rotate-interval and --audit-signing-key need --audit');
    return undefined;
  }
  if (rotating && flags.audit === 'stdout') throw new Error('--audit-rotate-size and --audit-rotate-interval need an --audit file');
  return new AuditLog(flags.audit, {
    ...(flags.replicaId === undefined ? {} : { replica: flags.replicaId }),
    ...(flags.auditRotateBytes === undefined ? {} : { rotateBytes: flags.auditRotateBytes }),
    ...(flags.auditRotateMs === undefined ? {} : { rotateMs: flags.auditRotateMs }),
    ...(flags.auditSigningKey === undefined ? {} : { signingKey: signingKey(flags.auditSigningKey) }),
    checkpointEvery: flags.auditCheckpointEvery,
  });
}

function signingKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (error) {
    throw new Error(`--audit-signing-key ${path}: not a readable private key (PEM)`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`--audit-signing-key ${path}: an Ed25519 key is needed, not ${key.asymmetricKeyType}`);
  return key;
}
