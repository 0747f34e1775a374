// A stand-in for a Fluentd that cannot take more (`overflow_action block` with its output down): a TCP server
// on a free loopback port that accepts connections but never reads from them, so no ack ever comes.
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

export interface DeafPeer {
  port: number;
  /** Every connection it accepted, in order. */
  accepted: Socket[];
  /** Cuts the accepted connections and stops listening. */
  close(): void;
}

export async function startDeafPeer(): Promise<DeafPeer> {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.pause();
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    accepted,
    close() {
      for (const socket of accepted) socket.destroy();
      server.close();
    },
  };
}
