// A real OpenID Provider (the npm package oidc-provider) for tests/test_providers_real.py.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"port": N, "clients": [{"client_id", "client_secret", "shape": {...}}]}.
// Each client gets JWT access tokens from the client_credentials grant; its "shape"
// makes them look like one identity provider's: every member is set in the payload
// ("{issuer}" in a string is this provider's issuer), a null member is removed. "aud"
// cannot be removed for real (oidc-provider requires one on JWT access tokens), so a
// null "aud" is kept out of the signed JSON instead (Cognito's access tokens have none).
//
// POST /__rotate (loopback only, the tests' own) swaps in a new provider whose first
// key is new: new tokens carry a new kid, the old key is still published.
// DPoP (oidc-provider's default) is on: a token request with a DPoP proof gets a token
// bound to the proof's key (cnf.jkt, token_type DPoP); one without, a bearer token.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const RESOURCE = 'urn:test:api';

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

function fill(value) {
  if (typeof value === 'string') return value.replaceAll('{issuer}', issuer);
  if (Array.isArray(value)) return value.map(fill);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
  }
  return value;
}

const shapes = new Map(config.clients.map((c) => [c.client_id, fill(c.shape || {})]));

function build(keys) {
  const provider = new Provider(issuer, {
    clients: config.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'orders:read orders:write tools:read tools:call',
    })),
    jwks: { keys },
    scopes: ['openid', 'orders:read', 'orders:write', 'tools:read', 'tools:call'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        // Any resource indicator is a resource server (RFC 8707): its tokens name it.
        getResourceServerInfo: (ctx, resourceIndicator) => ({
          scope: 'orders:read orders:write tools:read tools:call',
          audience: resourceIndicator,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    formats: {
      customizers: {
        jwt(ctx, token, jwt) {
          const shape = shapes.get(token.clientId) || {};
          for (const [name, value] of Object.entries(shape)) {
            if (value !== null) {
              jwt.payload[name] = value;
            } else if (name === 'aud') {
              Object.defineProperty(jwt.payload, 'aud', {
                value: RESOURCE, enumerable: false, writable: true, configurable: true,
              });
            } else {
              delete jwt.payload[name];
            }
          }
        },
      },
    },
  });
  provider.proxy = false;
  return provider;
}

let keys = [newKey()];
let handler = build(keys).callback();

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/__rotate') {
    keys = [newKey(), ...keys];
    handler = build(keys).callback();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kid: keys[0].kid }));
    return;
  }
  handler(req, res);
});
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
