import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ConnectProxy {
  url: string;
  /** host:port of every CONNECT request seen. */
  tunnels: string[];
  stop(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Refuse every CONNECT with this status. */
  refuseWith?: number;
  /** Speak TLS to clients (an https:// proxy) with this certificate; the URL then names localhost. */
  tls?: { certPem: string; keyPem: string };
  /** `user:password` put in the URL, as a proxy with credentials is configured. */
  userinfo?: string;
  /** Demand Basic proxy credentials: CONNECT without exactly these (`user:password`) gets 407. */
  requireAuth?: string;
}

/** A minimal HTTPS proxy on 127.0.0.1: tunnels CONNECT, or refuses it with `refuseWith`. */
export async function startConnectProxy(opts: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const sockets = new Set<Socket>();
  const tunnels: string[] = [];
  const refuse = (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(405).end();
  const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, refuse) : createServer(refuse);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const wanted = opts.requireAuth && `Basic ${Buffer.from(opts.requireAuth).toString('base64')}`;
    if (wanted && req.headers['proxy-authorization'] !== wanted) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="enclave"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (opts.refuseWith) {
      client.end(`HTTP/1.1 ${opts.refuseWith} Forbidden\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `${opts.tls ? 'https' : 'http'}://${opts.userinfo ? `${opts.userinfo}@` : ''}${opts.tls ? 'localhost' : '127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    tunnels,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
