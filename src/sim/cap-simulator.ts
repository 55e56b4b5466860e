import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** How the simulator answers for one role. */
export type RoleBehaviour =
  | { kind: 'ok'; lifetimeSeconds?: number; shape?: 'nested' | 'top-level'; withoutExpiration?: boolean }
  | { kind: 'status'; status: number; body?: string; contentType?: string; headers?: Record<string, string> }
  | { kind: 'html'; status?: number }
  | { kind: 'malformed'; body: string | Buffer }
  | { kind: 'expired' }
  | { kind: 'drop' }
  | { kind: 'stall' }
  | { kind: 'huge'; bytes: number }
  /** 200 with the headers and the first `bytes` of a credentials body (default half), then the connection is cut. */
  | { kind: 'reset'; bytes?: number }
  /** Answers each request in turn from the list; the last one repeats. */
  | { kind: 'sequence'; steps: RoleBehaviour[] };

export interface CapSimulatorOptions {
  server: { certPem: string; keyPem: string };
  /** CA(s) whose client certificates are accepted. */
  clientCaPem: string;
  /** Delay before every answer, in ms. */
  delayMs?: number;
  /** Answer for roles without a behaviour. */
  defaultBehaviour?: RoleBehaviour;
  /** nginx style: let the handshake through without a trusted certificate and answer 400 HTML. */
  badCertificateAs?: 'close' | 'http-400';
  now?: () => Date;
  port?: number;
  /** The Date header is this far from the real clock (a skewed CAP, or a skewed node seen from CAP). */
  dateOffsetMs?: number;
}

export interface CapCall {
  agency: string | null;
  mission: string | null;
  /** The SC2S account name (`accountName` on the SC2S path). */
  account: string | null;
  role: string | null;
  path: string;
  clientSubject: string | null;
}

export interface CapSimulator {
  url: string;
  calls: CapCall[];
  /** Credentials handed out, so tests can look for them in output. */
  issued: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string }[];
  setBehaviour(role: string, behaviour: RoleBehaviour): void;
  setDelay(ms: number): void;
  /** Skews the Date header (and issued expirations) by this much from now(). */
  setDateOffset(ms: number): void;
  /** Called when a request arrives (before the delay); for measuring. */
  onRequest?: (call: CapCall) => void;
  stop(): Promise<void>;
}

const HTML_400 =
  '<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** The SC2S portal's path, as public descriptions give it. */
export const SC2S_PATH = '/cap/gxCAP/getTemporaryCredentials';

function randomId(prefix: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(length);
  return prefix + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/**
 * A CAP stand-in: HTTPS on 127.0.0.1 that demands a client certificate from `clientCaPem`
 * and serves GET /api/v1/credentials (agency, mission, role) and, in the SC2S shape public
 * descriptions give, GET /cap/gxCAP/getTemporaryCredentials (agency, accountName, roleName). Behaviour per role lets tests and the benchmark
 * reproduce every failure a real CAP shows.
 */
export async function startCapSimulator(opts: CapSimulatorOptions): Promise<CapSimulator> {
  const now = opts.now ?? (() => new Date());
  const behaviours = new Map<string, RoleBehaviour>();
  const sequencePos = new Map<string, number>();
  const sockets = new Set<Socket>();
  let delayMs = opts.delayMs ?? 0;
  let dateOffsetMs = opts.dateOffsetMs ?? 0;
  const capNow = () => new Date(now().getTime() + dateOffsetMs);
  const nginxStyle = opts.badCertificateAs === 'http-400';

  const sim: CapSimulator = {
    url: '',
    calls: [],
    issued: [],
    setBehaviour: (role, b) => {
      behaviours.set(role, b);
      sequencePos.delete(role);
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    setDateOffset: (ms) => {
      dateOffsetMs = ms;
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer(
    {
      cert: opts.server.certPem,
      key: opts.server.keyPem,
      ca: opts.clientCaPem,
      requestCert: true,
      rejectUnauthorized: !nginxStyle,
    },
    (req, res) => {
      res.setHeader('date', capNow().toUTCString());
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const sc2s = url.pathname === SC2S_PATH;
      const call: CapCall = {
        agency: url.searchParams.get('agency'),
        mission: url.searchParams.get('mission'),
        account: url.searchParams.get('accountName'),
        role: url.searchParams.get(sc2s ? 'roleName' : 'role'),
        path: url.pathname,
        clientSubject: peer?.subject ? String(peer.subject.CN) : null,
      };
      sim.onRequest?.(call);
      if (nginxStyle && !socket.authorized) {
        res.writeHead(400, { 'content-type': 'text/html' }).end(HTML_400);
        return;
      }
      sim.calls.push(call);
      if (req.method !== 'GET' || (url.pathname !== '/api/v1/credentials' && !sc2s)) {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404 Not Found</body></html>');
        return;
      }
      const behaviour = pickBehaviour(call.role ?? '');
      const answer = () => respond(behaviour, res, req.socket);
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);

  function pickBehaviour(role: string): RoleBehaviour {
    const b = behaviours.get(role) ?? opts.defaultBehaviour ?? { kind: 'ok' };
    if (b.kind !== 'sequence') return b;
    const pos = sequencePos.get(role) ?? 0;
    sequencePos.set(role, pos + 1);
    return b.steps[Math.min(pos, b.steps.length - 1)] ?? { kind: 'ok' };
  }

  function credentials(lifetimeSeconds: number) {
    const c = {
      accessKeyId: randomId('ASIA', 16),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE${randomBytes(96).toString('base64')}`,
      expiration: new Date(capNow().getTime() + lifetimeSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    sim.issued.push(c);
    return { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: c.expiration };
  }

  function respond(b: RoleBehaviour, res: import('node:http').ServerResponse, socket: Socket): void {
    switch (b.kind) {
      case 'ok': {
        const { Expiration, ...rest } = credentials(b.lifetimeSeconds ?? 3600);
        const fields = b.withoutExpiration ? rest : { ...rest, Expiration };
        const body = b.shape === 'top-level' ? fields : { Credentials: fields };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        return;
      }
      case 'expired': {
        const fields = credentials(-60);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Credentials: fields }));
        return;
      }
      case 'status':
        res.writeHead(b.status, { 'content-type': b.contentType ?? 'application/json', ...(b.headers ?? {}) }).end(b.body ?? '{"message":"error"}');
        return;
      case 'html':
        res.writeHead(b.status ?? 200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>');
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' }).end(b.body);
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"pad":"${'x'.repeat(b.bytes)}"}`);
        return;
      case 'drop':
        socket.destroy();
        return;
      case 'reset': {
        const body = JSON.stringify({ Credentials: credentials(3600) });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.write(body.slice(0, b.bytes ?? Math.floor(body.length / 2)), () => socket.destroy());
        return;
      }
      case 'stall':
        return; // never answers; the client's timeout must fire
      case 'sequence':
        respond({ kind: 'ok' }, res, socket);
        return;
    }
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  sim.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return sim;
}
