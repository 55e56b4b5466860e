import { rm } from 'node:fs/promises';
import { startCapFixture, type CapFixture } from './cap-fixture.js';
import { startKubeApiServer, type KubeApiServer } from './kube-api-server.js';
import { makeTempDir } from './temp-dir.js';

/** What a cluster test needs: CAP with real certificates, the Kubernetes API test server, and a kubeconfig for it. */
export interface ClusterFixture {
  cap: CapFixture;
  kube: KubeApiServer;
  /** A temporary folder holding the kubeconfig; removed by stop(). */
  dir: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

export async function startClusterFixture(prefix: string): Promise<ClusterFixture> {
  const cap = await startCapFixture();
  const kube = await startKubeApiServer();
  const dir = await makeTempDir(prefix);
  return {
    cap,
    kube,
    dir,
    kubeconfig: await kube.writeKubeconfig(dir),
    async stop() {
      await kube.stop();
      await cap.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
