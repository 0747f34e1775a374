// A stand-in for a log server that hangs: a TCP server on 127.0.0.1 that accepts connections and reads what is
// sent, but never answers.
import type { Socket } from 'node:net';
import { TcpTestServer } from './tcpTestServer.js';

export class SilentServer extends TcpTestServer {
  connections = 0;
  bytesReceived = 0;

  protected serve(socket: Socket): void {
    this.connections++;
    socket.on('data', (chunk: Buffer) => (this.bytesReceived += chunk.length));
  }
}
