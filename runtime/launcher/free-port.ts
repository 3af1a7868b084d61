/**
 * A TCP port that is free right now on `host`, for rank 0's rendezvous. Another program could take it
 * before rank 0 binds it; --rendezvous-port is there for machines where that matters.
 */
import { createServer } from 'node:net';

export function freePort(host: string): Promise<number> {
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
