/**
 * A TCP proxy the test controls: `cut()` destroys every connection through it at once (both
 * sides), as a network failure would, rather than a client's polite abort.
 */
import net from 'node:net';

export interface TcpProxy {
  /** `target` with the proxy's host and port. */
  url: string;
  cut(): void;
  /** New connections go to `target` from now on (a load balancer picking another replica). */
  retarget(target: string): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  let to = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(to.port), to.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    // A target that refuses (nothing listens there) closes the client's connection: refused too.
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    retarget(next) {
      to = new URL(next);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One SSE event as the tests look at it. */
export interface RawEvent {
  id: string | undefined;
  retry: number | undefined;
  data: string;
}

/** Parses complete SSE events out of `text`. */
export function rawEvents(text: string): RawEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event: RawEvent = { id: undefined, retry: undefined, data: '' };
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(':');
        const value = rest.join(':').replace(/^ /, '');
        if (field === 'id') event.id = value;
        else if (field === 'retry') event.retry = Number(value);
        else if (field === 'data') event.data += value;
      }
      return event;
    });
}
