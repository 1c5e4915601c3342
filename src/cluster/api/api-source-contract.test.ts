/**
 * @module cluster/api/api-source-contract.test
 * The shared ClusterStateSource contract (test/support/cluster-source-contract.ts)
 * run over the live API source: KubernetesApiSource listing and watching the
 * API test server (test/support/fake-apiserver.ts, real list/watch over HTTP on
 * 127.0.0.1), with pods and EndpointSlices watched.
 */
import { clusterSourceContract } from '../../../test/support/cluster-source-contract.ts';
import { FakeApiServer } from '../../../test/support/fake-apiserver.ts';
import { RecordingLogger } from '../../../test/support/recording-logger.ts';
import { KubernetesApiSource } from './source.ts';

clusterSourceContract('KubernetesApiSource over the API test server', () => {
  const server = new FakeApiServer();
  let url = '';
  const source = (): KubernetesApiSource => new KubernetesApiSource({
    endpoint: url, watchPods: true, watchEndpoints: true, logger: new RecordingLogger(), backoff: { initialMs: 5, maxMs: 50 },
  });
  return {
    async create(initial) {
      url = (await server.start()).url;
      for (const o of initial) server.create(o);
      return source();
    },
    async upsert(objects) {
      for (const o of objects) server.upsert(o);
    },
    async remove(kind, namespace, name) {
      server.delete(kind, kind === 'Namespace' ? '' : namespace, name);
    },
    witness: source,
    async cleanup() {
      await server.stop();
    },
  };
});
