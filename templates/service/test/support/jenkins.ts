// A stand-in for Jenkins' remote build API: a small HTTP server on a free loopback port that records what it
// is sent and answers as Jenkins does (201 with the queue item's Location), or with the status a test asks for.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JenkinsRequest {
  method: string;
  url: string;
  authorization?: string;
}

export interface JenkinsStandIn {
  url: string;
  requests: JenkinsRequest[];
  server: Server;
}

/** Starts the stand-in; every request is answered with `status`. */
export async function startJenkinsStandIn(status = 201): Promise<JenkinsStandIn> {
  const requests: JenkinsRequest[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    res.writeHead(status, status === 201 ? { location: 'http://jenkins/queue/item/7/' } : {}).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}
