/**
 * A TCP port that is free right now on `host` (bind port 0, read the port back, release it): rank 0's
 * rendezvous, and the benchmarks' and tests' jobs. Another program could take it before it is bound
 * again; --rendezvous-port is there for machines where that matters.
 */
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
