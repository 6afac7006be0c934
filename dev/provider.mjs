// The local OpenID Connect provider for development and tests: the real,
// OpenID-certified `oidc-provider`, configured for the token handler.
//
// Configured by environment variables (all optional):
//   PROVIDER_PORT              port on 127.0.0.1 (0 = any free port; default 0)
//   CLIENT_ID, CLIENT_SECRET   the BFF's confidential client (client_secret_basic)
//   REDIRECT_URIS              comma-separated; the SPA's own URL(s)
//   POST_LOGOUT_REDIRECT_URIS  comma-separated
//   INTROSPECT_CLIENT_ID, INTROSPECT_CLIENT_SECRET  a client allowed to introspect (phantom tokens)
//   ACCESS_TOKEN_TTL           seconds (default 3600); tests shorten it to exercise refresh
//   ACCESS_TOKEN_FORMAT        "opaque" (default) or "jwt" (RFC 9068, audience API_AUDIENCE)
//   API_AUDIENCE               the example API's audience (default "http://api.local")
//   BACKCHANNEL_LOGOUT_URI     the BFF's back-channel logout endpoint; when set, ending
//                              a session at /session/end POSTs a logout token there
//   ISSUER                     the issuer it names itself when that is not its own
//                              address (a test's fault proxy in front of it)
//   STORE_SIZE                 entries its in-memory store keeps (default 100000;
//                              oidc-provider's own keeps 1000, too few for a storm)
//
// Prints one JSON line, {"issuer": "...", "listens": "127.0.0.1:port"}, once it
// listens, and exits when its standard input closes, so a test that dies does
// not leave it behind. A line "rotate" on its standard input rotates the
// signing key (the JWKS then lists only the new one; grants and tokens live
// on) and prints {"rotated": "<new kid>"}. A line "traceparents" prints
// {"traceparents": [{"method", "path", "traceparent"}…]}: the W3C trace
// context of the latest requests that carried one (the BFF's, when its
// traces are on), so a test can see that the provider's calls continue the
// trace.

import http from 'node:http';
import crypto from 'node:crypto';
import readline from 'node:readline';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const env = process.env;
const list = (v, d) => (v ?? d).split(',').map((s) => s.trim()).filter(Boolean);

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(env.PROVIDER_PORT ?? 0), '127.0.0.1', resolve));
const listens = `127.0.0.1:${server.address().port}`;
const issuer = env.ISSUER || `http://${listens}`;

const clientId = env.CLIENT_ID ?? 'token-handler';
const introspectClientId = env.INTROSPECT_CLIENT_ID ?? 'api-gateway';
const apiAudience = env.API_AUDIENCE ?? 'http://api.local';
const jwtAccessTokens = (env.ACCESS_TOKEN_FORMAT ?? 'opaque') === 'jwt';
const accessTokenTtl = Number(env.ACCESS_TOKEN_TTL ?? 3600);
const backchannelLogoutUri = env.BACKCHANNEL_LOGOUT_URI || undefined;

function newSigningKey() {
  const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  key.kid = crypto.randomBytes(8).toString('hex');
  key.alg = 'RS256';
  key.use = 'sig';
  return key;
}

// One store and one set of cookie keys for every provider instance this
// process makes, so a key rotation (a new instance) keeps every grant.
const store = new LRU({ maxSize: Number(env.STORE_SIZE || 100000) });
const cookieKeys = [crypto.randomBytes(32).toString('hex')];

const makeProvider = (signingKey) => new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients: [
    {
      client_id: clientId,
      client_secret: env.CLIENT_SECRET ?? 'dev-secret-change-me',
      redirect_uris: list(env.REDIRECT_URIS, 'http://localhost:8080/'),
      post_logout_redirect_uris: list(env.POST_LOGOUT_REDIRECT_URIS, 'http://localhost:8080/'),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(backchannelLogoutUri && {
        backchannel_logout_uri: backchannelLogoutUri,
        backchannel_logout_session_required: true,
      }),
    },
    {
      client_id: introspectClientId,
      client_secret: env.INTROSPECT_CLIENT_SECRET ?? 'dev-introspect-secret',
      redirect_uris: [],
      grant_types: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: cookieKeys },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'api'],
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: id, preferred_username: id, email: `${id}@example.com`, email_verified: true };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: Boolean(backchannelLogoutUri) },
    introspection: {
      enabled: true,
      // Only the BFF and the gateway client may introspect.
      allowedPolicy: async (_ctx, client) => [clientId, introspectClientId].includes(client.clientId),
    },
    jwtIntrospection: { enabled: true },
    resourceIndicators: {
      enabled: jwtAccessTokens,
      defaultResource: () => apiAudience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: apiAudience,
        accessTokenFormat: 'jwt',
        accessTokenTTL: accessTokenTtl,
      }),
    },
  },
  // Put the profile and email claims in the ID token too, so the BFF can show
  // who is signed in without a userinfo call.
  conformIdTokenClaims: false,
  // Outgoing requests (back-channel logout) go to the BFF on loopback, which
  // oidc-provider's SSRF guard refuses by default; this provider only ever
  // runs on a developer's or CI's machine.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  // Every refresh rotates the refresh token; the old one stops working.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Session: 24 * 3600,
    Interaction: 600,
  },
});

function start(signingKey) {
  const provider = makeProvider(signingKey);
  for (const event of ['backchannel.error', 'server_error']) {
    provider.on(event, (...args) => {
      const err = args.find((a) => a instanceof Error);
      console.error(`oidc-provider ${event}: ${err?.message ?? 'unknown'} ${err?.cause?.code ?? ''} ${err?.cause?.message ?? ''}`);
    });
  }
  return provider.callback();
}

// The test kit reads the first stdout line and may close the pipe; a later
// write must not kill the provider (EPIPE).
process.stdout.on('error', () => {});
let handler = start(newSigningKey());
// Only requests that carry a trace context, and only the latest few: a
// benchmark's storm without traces records nothing. The path without its
// query, which may hold a code or a token.
const traceparents = [];
server.on('request', (req, res) => {
  const traceparent = req.headers.traceparent;
  if (traceparent) {
    traceparents.push({ method: req.method, path: req.url.split('?')[0], traceparent });
    if (traceparents.length > 100) traceparents.shift();
  }
  handler(req, res);
});
process.stdout.write(`${JSON.stringify({ issuer, listens })}\n`);
const commands = readline.createInterface({ input: process.stdin });
commands.on('line', (line) => {
  if (line.trim() === 'rotate') {
    const key = newSigningKey();
    handler = start(key);
    process.stdout.write(`${JSON.stringify({ rotated: key.kid })}\n`);
  } else if (line.trim() === 'traceparents') {
    process.stdout.write(`${JSON.stringify({ traceparents })}\n`);
  }
});
commands.on('close', () => process.exit(0));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
