import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StrictTlsServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * `openssl s_server` with client verification inside the handshake, as nginx or Apache
 * with `ssl_verify_client on` do: an untrusted client certificate gets a real TLS alert
 * (Node's own TLS server only checks after the handshake and closes without one).
 */
export async function startStrictTlsServer(dir: string, pki: { server: { certPem: string; keyPem: string }; clientCaPem: string }): Promise<StrictTlsServer> {
  const cert = join(dir, 'strict-server.crt');
  const key = join(dir, 'strict-server.key');
  const ca = join(dir, 'strict-client-ca.crt');
  await writeFile(cert, pki.server.certPem);
  await writeFile(key, pki.server.keyPem, { mode: 0o600 });
  await writeFile(ca, pki.clientCaPem);
  const child: ChildProcess = spawn(
    'openssl',
    ['s_server', '-accept', '127.0.0.1:0', '-cert', cert, '-key', key, '-CAfile', ca, '-Verify', '1', '-verify_return_error', '-www'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    // Whatever goes wrong while starting, the process does not outlive the attempt.
    let started = false;
    const fail = (err: Error) => {
      if (started) return;
      child.kill('SIGTERM');
      reject(err);
    };
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ACCEPT\s+\S*?:(\d+)/.exec(out);
      if (m && !started) {
        started = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', (err) => fail(new Error(`openssl s_server could not start (is openssl installed?): ${err.message}`)));
    child.on('exit', (code) => fail(new Error(`openssl s_server exited with ${code}: ${out}`)));
    const timer = setTimeout(() => fail(new Error(`openssl s_server printed no ACCEPT line: ${out}`)), 10_000);
  });
  return {
    url: `https://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
