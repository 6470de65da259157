// A real OpenID Connect provider for Hygie's tests, built on the `oidc-provider` package.
//
//   node provider.mjs CONFIG.json
//
// It listens on 127.0.0.1 on a free port, then prints one line `READY <issuer>` on stdout.
// CONFIG.json: {"password": "...", "clients": [<client metadata>, ...]}
//
// Accounts: any e-mail address logs in with the shared test password. The login form also lets
// the test (or a person in a browser) choose what the provider asserts about the authentication:
// `amr` (space-separated RFC 8176 values), `acr`, and whether the e-mail is verified.
// Keys (RS256 and ES256) are generated at start-up; nothing is read from the network.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map(); // accountId (e-mail) -> claims chosen at login

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function signingKeys() {
  const pairs = [
    ['RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ];
  return pairs.map(([alg, { privateKey }]) => ({
    ...privateKey.export({ format: 'jwk' }),
    alg,
    use: 'sig',
    kid: `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`,
  }));
}

function loginPage(uid, params, error) {
  return `<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Fournisseur d'identité de test</title></head>
<body>
<h1>Fournisseur d'identité de test</h1>
<p>Application : ${escapeHtml(params.client_id)}</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
  <label>Adresse électronique <input name="login" type="email" autocomplete="username" autofocus></label>
  <label>Mot de passe <input name="password" type="password" autocomplete="current-password"></label>
  <label>Méthode d'authentification
    <select name="amr">
      <option value="pwd">Mot de passe seul</option>
      <option value="pwd otp mfa">Mot de passe et code à usage unique</option>
      <option value="sc hwk mfa">Carte CPS</option>
    </select>
  </label>
  <label>Niveau (acr) <input name="acr" value="${escapeHtml(params.acr_values || '')}"></label>
  <label><input type="checkbox" name="email_verified" value="true" checked> Adresse vérifiée</label>
  <button type="submit">Se connecter</button>
</form>
</body></html>`;
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 10000) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: signingKeys() },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  acrValues: ['eidas1', 'eidas2', 'eidas3'],
  claims: {
    // Like most providers, always assert how the user authenticated in the ID token.
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name'],
    sid: null,
    iss: null,
  },
  // Every client must use PKCE: a relying party that forgot it fails the token exchange.
  pkce: { required: () => true },
  responseTypes: ['code'],
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Déconnexion</title></head>
<body><h1>Se déconnecter du fournisseur d'identité ?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Oui</button></body></html>`;
      },
      postLogoutSuccessSource(ctx) {
        ctx.body = '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Déconnecté</title></head><body><h1>Déconnecté</h1></body></html>';
      },
    },
  },
  interactions: {
    url(ctx, interaction) {
      return `/interaction/${interaction.uid}`;
    },
  },
  // First-party clients: no consent screen, the grant covers what was asked for.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const profile = accounts.get(id);
    if (!profile) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...profile }) };
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});

const oidcCallback = provider.callback();

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    res.writeHead(400).end('interaction mismatch');
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(loginPage(uid, details.params));
    return;
  }
  const form = await readForm(req);
  const login = (form.get('login') || '').trim().toLowerCase();
  if (!login.includes('@') || form.get('password') !== config.password) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(loginPage(uid, details.params, 'Identifiant ou mot de passe incorrect.'));
    return;
  }
  const local = login.split('@')[0].split('.');
  accounts.set(login, {
    email: login,
    email_verified: form.get('email_verified') === 'true',
    given_name: local[0] || '',
    family_name: local.slice(1).join(' '),
    name: local.join(' '),
  });
  const amr = (form.get('amr') || 'pwd').split(/\s+/).filter(Boolean);
  const acr = form.get('acr') || undefined;
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: login, amr, acr, remember: false } },
    { mergeWithLastSubmission: false },
  );
}

server.on('request', (req, res) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(req.url.split('?')[0]);
  if (match && (req.method === 'GET' || req.method === 'POST')) {
    interaction(req, res, match[1]).catch((err) => {
      if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end(`interaction failed: ${err.message}`);
    });
    return;
  }
  oidcCallback(req, res);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
process.stdout.write(`READY ${issuer}\n`);
