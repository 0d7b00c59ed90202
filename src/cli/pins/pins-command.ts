/**
 * @module cli/pins/pins-command
 * `sessiongate pins export [--out FILE]` writes the tool definitions the gateway has pinned as a
 * lock file; `sessiongate pins import FILE` makes a reviewed lock file the accepted set
 * (docs/CURATION.md, "Lock files"). Both work on the gateway's store (`--store`, default the
 * gateway's own), running or not.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { exportLock, importLock, lockText, parseLock } from '../../gateway/curation/pin-lock.js';
import { ToolPins } from '../../gateway/curation/tool-pins.js';
import { envOption } from '../config-file.js';
import { DEFAULT_GATEWAY_STORE, openStore, parseStoreSpec, type StoreSpec } from '../store-spec.js';

export function pinsCommand(): Command {
  const pins = new Command('pins').description('the tool definitions the gateway pinned: export and import lock files');
  const storeOption = () =>
    envOption('--store <store>', "the gateway's store: sqlite:PATH or redis://...")
      .argParser((text) => {
        try {
          return parseStoreSpec(text);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      })
      .default(parseStoreSpec(DEFAULT_GATEWAY_STORE), DEFAULT_GATEWAY_STORE);
  pins
    .command('export')
    .description('write every accepted tool definition as a lock file (stdout, or --out)')
    .addOption(storeOption())
    .option('--out <file>', 'write it here instead of stdout')
    .action(async (values: { store: StoreSpec; out?: string }) => {
      const text = lockText(await withPins(values.store, exportLock));
      if (values.out === undefined) process.stdout.write(text);
      else writeFileSync(values.out, text);
    });
  pins
    .command('import <file>')
    .description("make a lock file's definitions the accepted ones (a pending change it names is settled)")
    .addOption(storeOption())
    .action(async (file: string, values: { store: StoreSpec }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`cannot read ${file}`, { cause: error });
      }
      const lock = parseLock(text, file);
      const counts = await withPins(values.store, (pins) => importLock(pins, lock));
      for (const [server, count] of counts) process.stdout.write(`${server}: ${count} tools accepted\n`);
    });
  return pins;
}

async function withPins<T>(spec: StoreSpec, use: (pins: ToolPins) => Promise<T>): Promise<T> {
  if (spec.kind === 'memory')
    throw new Error("pins live in the gateway's store: give --store sqlite:PATH or redis://... (a memory store is gone with its gateway)");
  const store = await openStore(spec);
  try {
    if (!store.grants) throw new Error('this store keeps no records (grants) to pin tools in');
    return await use(new ToolPins(store.grants));
  } finally {
    await store.close();
  }
}
