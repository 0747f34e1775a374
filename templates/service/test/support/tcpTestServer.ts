// The socket life cycle the wire-level test servers share: listen on 127.0.0.1 (any free port), and play an
// outage — stop() refuses new connections and cuts the open ones, restart() comes back on the same port.
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

export abstract class TcpTestServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(public port: number) {}

  /** Starts a server of the subclass it is called on, listening on 127.0.0.1 (port 0: any free port). */
  static async start<T extends TcpTestServer>(this: new (port: number) => T, port = 0): Promise<T> {
    const server = new this(port);
    await server.listen();
    return server;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Plays an outage: refuses new connections and cuts the open ones (what they had not answered is lost). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Comes back on the same port. */
  async restart(): Promise<void> {
    if (!this.server) await this.listen();
  }

  protected async listen(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {}); // a client that goes away is not the test's failure
      this.serve(socket);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Speaks the protocol on one accepted connection. */
  protected abstract serve(socket: Socket): void;
}
