/**
 * @module gateway/curation/pin-desk
 * What an operator does with pins, for the admin API and the console alike (docs/CURATION.md,
 * "Accepting a change"): every server's pins with each pending change beside the definition it
 * would replace, and accepting the change they looked at (by its hash: a server that changed it
 * again since is not accepted unseen). Every acceptance is audited.
 */
import type { EventSink } from '../audit-events.js';
import type { PinControls } from './pinning-stage.js';
import type { PendingView, PinsView } from './pins-view.js';
import type { Acceptance } from './tool-pins.js';

export interface PinDesk {
  view(): Promise<PinsView>;
  accept(server: string, tool: string, hash: string, by: { via: 'console'; console: string } | { via: 'admin' }): Promise<Acceptance>;
}

export function pinDesk(controls: PinControls, events: EventSink): PinDesk {
  return {
    async view() {
      const all = await controls.pins.all();
      const pending: PendingView[] = [];
      for (const [server, pins] of Object.entries(all))
        for (const [tool, waiting] of pins.pending) {
          const accepted = pins.accepted.get(tool);
          pending.push({
            server,
            tool,
            change: waiting.change,
            fields: waiting.fields,
            hash: waiting.hash,
            seenAt: new Date(waiting.at).toISOString(),
            accepted: accepted ? { hash: accepted.hash, definition: accepted.definition } : null,
            definition: waiting.definition,
          });
        }
      pending.sort((a, b) => a.seenAt.localeCompare(b.seenAt) || a.server.localeCompare(b.server) || a.tool.localeCompare(b.tool));
      const servers = Object.entries(all).map(([name, pins]) => ({ name, pinned: pins.accepted.size, sealed: pins.sealed }));
      return { pending, servers };
    },
    async accept(server, tool, hash, by) {
      const result = await controls.pins.accept(server, tool, hash);
      if (result !== 'accepted') return result;
      events.write({
        event: 'tool.accepted',
        server,
        tool,
        definitionHash: hash,
        by: by.via,
        ...(by.via === 'console' && { console: by.console }),
      });
      controls.pinsChanged();
      return result;
    },
  };
}
