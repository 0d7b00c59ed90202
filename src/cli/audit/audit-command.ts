/**
 * @module cli/audit/audit-command
 * `sessiongate audit verify FILE... [--public-key FILE]` checks audit files' hash chain (and
 * checkpoint signatures with the key): `ok: N lines` and exit 0, or the first broken line's
 * file, number and why, and exit 1 (docs/AUDIT.md, "Verifying").
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError } from 'commander';
import { AuditVerifier } from '../../gateway/audit-log/audit-verify.js';

export function auditCommand(): Command {
  const audit = new Command('audit').description('the tamper-evident audit log: verify its chain');
  audit
    .command('verify <files...>')
    .description('check the hash chain of audit files (a rotation: oldest first, the current file last)')
    .option('--public-key <file>', 'an Ed25519 public key (PEM): signatures must cover every line')
    .option('--checkpoint-every <n>', "with --public-key: the gateway's --audit-checkpoint-every", positiveInteger, 1000)
    .option('--open', 'with --public-key: the newest file is still being written (its tail after the last checkpoint is a note)')
    .action(async (files: string[], values: { publicKey?: string; checkpointEvery: number; open?: boolean }) => {
      const verifier = new AuditVerifier({
        ...(values.publicKey === undefined ? {} : { publicKey: publicKey(values.publicKey) }),
        checkpointEvery: values.checkpointEvery,
        open: values.open ?? false,
      });
      for (const file of files) {
        let number = 0;
        for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
          verifier.line(text, { file, line: ++number });
          if (verifier.broken) break;
        }
        verifier.endOfFile(file, endsWithNewline(file));
        if (verifier.broken) break;
      }
      const report = verifier.finish();
      for (const note of report.notes) process.stderr.write(`note: ${note}\n`);
      if (report.broken) {
        const { file, line, why } = report.broken;
        process.stdout.write(`broken: ${file ? `${file}:${line}: ` : ''}${why}\n`);
        process.exitCode = 1;
        return;
      }
      const signed = values.publicKey === undefined ? '' : `, ${report.checkpoints} signed checkpoints`;
      process.stdout.write(`ok: ${report.lines} lines${signed}\n`);
    });
  return audit;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return value;
}

function publicKey(path: string): KeyObject {
  const key = createPublicKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 public key`);
  return key;
}

function endsWithNewline(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}
