// The whole stack for the browser test, every part real and on 127.0.0.1 with
// free ports: the OpenID Connect provider (dev/provider.mjs), the example API,
// the BFF with its proxy, and a static server for the release build in dist/
// that sends the production headers (COEP, COOP, CSP) and proxies /bff and
// /api to the BFF, so the page and the BFF share one origin. With
// `sessionStore: 'redis'`, also a redis-server (nothing saved) that the BFF
// keeps its sessions in.
//
// The BFF runs with the local stack's own settings, dev/bff.dev.toml (as
// scripts/dev.sh starts it), so the browser test checks the settings a
// developer runs. Only what must differ is overridden, through the `TH_`
// environment variables production uses too: the ports (free ones here,
// fixed ones there, so that tests may run beside a running dev stack), the
// issuer, the app's origin, a fresh cookie key, the session store, and more
// log detail. The Rust tests start the BFF differently again, in-process,
// from th_testkit::bff_settings (docs/spa.md says why).

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(import.meta.dirname, '..', '..');

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `url` until it answers 2xx. */
async function waitHttp(url, what, proc, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}\n${proc.logTail()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url} in time\n${proc.logTail()}`);
}

/** Waits until the Redis server on `port` answers PING. */
async function waitRedis(port, proc, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}\n${proc.logTail()}`);
    const pong = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.setTimeout(1000, () => socket.destroy());
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
    if (pong) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer PING in time\n${proc.logTail()}`);
}

/** Starts a child process, keeping the last lines of its output for errors. */
function start(name, command, args, env, logDir) {
  const log = fs.createWriteStream(path.join(logDir, `${name}.log`));
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const tail = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      log.write(chunk);
      tail.push(...chunk.toString().split('\n'));
      tail.splice(0, Math.max(0, tail.length - 30));
    });
  }
  child.logTail = () => `--- last lines of ${name}.log ---\n${tail.join('\n')}`;
  child.on('close', () => log.end());
  return child;
}

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/** The CSP CloudFront sends (terraform/modules/spa_hosting), plus the hash of
 * Trunk's inline loader (scripts/sync-spa.sh moves it into a file instead),
 * minus upgrade-insecure-requests, which has no meaning on plain-http loopback. */
function contentSecurityPolicy(indexHtml) {
  const hashes = [...indexHtml.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${crypto.createHash('sha256').update(m[1]).digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Serves dist/ like CloudFront (SPA routing, COEP/COOP/CSP) and proxies
 * /bff and /api to the BFF, as `trunk serve` does: the prefixes themselves
 * and everything under them, with `Host` rewritten to the BFF's address and
 * the browser's host in `X-Forwarded-Host` (dev/bff.dev.toml reads it there,
 * as the production BFF reads it behind CloudFront and the load balancer). */
async function startSpaServer(port, distDir, bffPort) {
  const indexHtml = fs.readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const securityHeaders = {
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'content-security-policy': contentSecurityPolicy(indexHtml),
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://spa');
    if (/^\/(bff|api)(\/|$)/.test(url.pathname)) {
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: bffPort,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `127.0.0.1:${bffPort}`, 'x-forwarded-host': req.headers.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"code":"upstream_unavailable","message":"the BFF did not answer"}');
      });
      req.pipe(upstream);
      return;
    }
    let file = path.normalize(path.join(distDir, decodeURIComponent(url.pathname)));
    if (!file.startsWith(distDir + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      file = path.join(distDir, 'index.html'); // SPA routing: unknown paths get the app
    }
    res.writeHead(200, {
      ...securityHeaders,
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/**
 * Starts everything; returns { spaUrl, stop() }. `accessTokenTtl` is short in
 * the test so the access token expires while the browser is signed in.
 * `sessionStore` is the BFF's `[session] store`: `cookie` (the default) or
 * `redis` (then a redis-server starts too). Logs go to
 * artifacts/browser-logs/, or its subfolder `logs` when given.
 */
export async function startStack({ accessTokenTtl, sessionStore = 'cookie', logs = '' }) {
  const logDir = path.join(root, 'artifacts', 'browser-logs', logs);
  fs.mkdirSync(logDir, { recursive: true });
  const [providerPort, apiPort, bffPort, spaPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // localhost, not 127.0.0.1: a different site from the provider, as in production.
  const spaOrigin = `http://localhost:${spaPort}`;
  const children = [];
  const servers = [];
  const stop = async () => {
    for (const s of servers) s.closeAllConnections?.();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    for (const c of children) {
      if (c.exitCode === null) c.kill('SIGTERM');
    }
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null
          ? null
          : new Promise((r) => {
              const t = setTimeout(() => {
                c.kill('SIGKILL');
                r();
              }, 5000);
              c.on('exit', () => {
                clearTimeout(t);
                r();
              });
            }),
      ),
    );
  };

  try {
    let storeEnv = {};
    if (sessionStore === 'redis') {
      const redisPort = await freePort();
      const redis = start(
        'redis',
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {},
        logDir,
      );
      children.push(redis);
      await waitRedis(redisPort, redis);
      storeEnv = { TH_SESSION__STORE: 'redis', TH_REDIS__URL: `redis://127.0.0.1:${redisPort}` };
    } else if (sessionStore !== 'cookie') {
      throw new Error(`unknown session store ${sessionStore}`);
    }

    const provider = start(
      'provider',
      process.execPath,
      [path.join(root, 'dev', 'provider.mjs')],
      {
        // The clients and secrets are the provider's defaults, which are
        // dev/bff.dev.toml's.
        PROVIDER_PORT: String(providerPort),
        REDIRECT_URIS: `${spaOrigin}/`,
        POST_LOGOUT_REDIRECT_URIS: `${spaOrigin}/`,
        ACCESS_TOKEN_TTL: String(accessTokenTtl),
      },
      logDir,
    );
    children.push(provider);
    const issuer = await new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: provider.stdout });
      lines.once('line', (line) => resolve(JSON.parse(line).issuer));
      provider.once('exit', (code) => reject(new Error(`the provider exited with ${code}\n${provider.logTail()}`)));
    });

    const api = start(
      'example-api',
      path.join(root, 'target', 'debug', 'example-api'),
      [],
      {
        EXAMPLE_API_LISTEN: `127.0.0.1:${apiPort}`,
        EXAMPLE_API_ISSUER: issuer,
        EXAMPLE_API_GATEWAY_CLIENT_ID: 'api-gateway',
      },
      logDir,
    );
    children.push(api);
    await waitHttp(`http://127.0.0.1:${apiPort}/healthz`, 'the example API', api);

    const bff = start(
      'bff',
      path.join(root, 'target', 'debug', 'bff'),
      ['--config', path.join(root, 'dev', 'bff.dev.toml')],
      {
        TH_LISTEN: `127.0.0.1:${bffPort}`,
        TH_OIDC__ISSUER: issuer,
        TH_OIDC__REDIRECT_URI: `${spaOrigin}/`,
        TH_OIDC__POST_LOGOUT_REDIRECT_URI: `${spaOrigin}/`,
        TH_CORS__ALLOWED_ORIGINS: `["${spaOrigin}"]`,
        TH_COOKIES__KEYS: `[{ id = "e2e", key = "${crypto.randomBytes(32).toString('base64')}" }]`,
        TH_LOG__FILTER: 'info,th_bff=debug,th_http=debug,th_proxy=debug',
        TH_METRICS__LISTEN: '127.0.0.1:0',
        // The file's one route, to this stack's example API: an array is
        // replaced whole, so the route is written out again.
        TH_PROXY__ROUTES: `[{ prefix = "/api/example", upstream = "http://127.0.0.1:${apiPort}", token_mode = "phantom" }]`,
        TH_PROXY__INTROSPECTION__ISSUER: issuer,
        ...storeEnv,
      },
      logDir,
    );
    children.push(bff);
    await waitHttp(`http://127.0.0.1:${bffPort}/readyz`, 'the BFF', bff);

    servers.push(await startSpaServer(spaPort, path.join(root, 'dist'), bffPort));
    return { spaUrl: `${spaOrigin}/`, issuer, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
