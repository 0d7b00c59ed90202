// nginx `proxy_pass` (one worker, keep-alive to the upstream, no buffering) as the floor of what
// an HTTP proxy costs per request on this machine; used by bench/gateway.bench.js when nginx is
// installed (Debian: apt-get install nginx-light).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTaskset } from './harness.js';
import { cpuMicros, descendants } from './processes.js';

export function hasNginx() {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A port nobody listens on now (the kernel's pick). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** nginx in front of `upstreamUrl`, its worker on core 0; `cpu()` is the worker's CPU in µs. */
export async function startNginx(upstreamUrl) {
  const port = await freePort();
  const upstream = new URL(upstreamUrl);
  const dir = mkdtempSync(join(tmpdir(), 'sg-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
user root;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  upstream mcp { server ${upstream.host}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`,
  );
  const args = ['-p', dir, '-c', conf, '-g', 'daemon off;'];
  const master = hasTaskset
    ? spawn('taskset', ['-c', '0', 'nginx', ...args], { stdio: 'inherit' })
    : spawn('nginx', args, { stdio: 'inherit' });
  const exited = new Promise((resolve) => master.once('exit', resolve));
  const url = `http://127.0.0.1:${port}${upstream.pathname}`;
  let worker;
  for (let i = 0; i < 100 && worker === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    worker = descendants(master.pid)[0];
  }
  if (worker === undefined) throw new Error('nginx did not start a worker');
  return {
    url,
    cpu: async () => ({ user: cpuMicros(worker), system: 0 }),
    stop: async () => {
      master.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
