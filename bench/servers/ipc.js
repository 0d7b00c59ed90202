// Shared by the benchmark servers: report CPU time and heap to the driver over IPC.
export function serveStats(extra = {}) {
  process.on('message', async (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (message === 'exit') process.exit(0);
    if (message === 'heap') {
      globalThis.gc?.();
      globalThis.gc?.();
      process.send({ heap: process.memoryUsage().heapUsed });
    }
    if (typeof message === 'object' && message.call in extra) process.send({ result: await extra[message.call](message.arg) });
  });
}

export function ready(server) {
  process.send({ port: server.address().port });
}
