// A stand-in for a MongoDB server: a TCP server answering the wire protocol the official driver speaks, with
// collections kept in memory. It covers what the prediction log and its tests send:
// - the handshake: a legacy OP_QUERY `ismaster` on admin.$cmd, answered with OP_REPLY (on the monitoring and
//   the pool connections alike); the reply leaves out topologyVersion, so the driver polls with plain `hello`
//   instead of switching to streaming (exhaust) mode;
// - OP_MSG commands: hello, ping, buildInfo, insert (documents in the body or as a kind-1 document sequence,
//   duplicate _id refused with E11000), find (equality filter, limit), createIndexes, listIndexes, drop,
//   delete, killCursors, endSessions (sent with moreToCome: no reply).
// It can be stopped and restarted on the same port to play an outage.
import type { Socket } from 'node:net';
import { BSON, Long } from 'mongodb';
import { TcpTestServer } from './tcpTestServer.js';

type Document = Record<string, unknown>;

export interface IndexDescription {
  key: Record<string, number>;
  name: string;
  expireAfterSeconds?: number;
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;
const MAX_WIRE_VERSION = 17; // MongoDB 6.0: inside what drivers 6.x and 7.x support

class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message);
  }
}

export class MongoTestServer extends TcpTestServer {
  /** Every command received, by name, in order (handshakes and heartbeats included). */
  readonly commands: string[] = [];
  /** Documents by namespace ("db.collection"), then by _id. */
  private readonly data = new Map<string, Map<string, Document>>();
  private readonly indexes = new Map<string, IndexDescription[]>();
  private connectionId = 0;
  private lastResponseId = 0;

  get url(): string {
    return `mongodb://127.0.0.1:${this.port}`;
  }

  documents(db: string, collection: string): Document[] {
    return [...(this.data.get(`${db}.${collection}`)?.values() ?? [])];
  }

  indexesOf(db: string, collection: string): IndexDescription[] {
    return this.indexes.get(`${db}.${collection}`) ?? [];
  }

  protected serve(socket: Socket): void {
    const connectionId = ++this.connectionId;
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      // A message starts with its total length; handle every complete one.
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        if (!this.listening) return; // "down": nothing is processed
        try {
          this.handle(socket, message, connectionId);
        } catch {
          socket.destroy(); // not the wire protocol: drop the connection, as mongod would
          return;
        }
      }
    });
  }

  private handle(socket: Socket, message: Buffer, connectionId: number): void {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) {
      // flags, then the namespace as a C string, numberToSkip, numberToReturn, the query document.
      const nsEnd = message.indexOf(0, 20);
      const namespace = message.toString('utf8', 20, nsEnd);
      const queryStart = nsEnd + 1 + 8;
      const query = BSON.deserialize(message.subarray(queryStart, queryStart + message.readInt32LE(queryStart)));
      const db = namespace.split('.')[0]!;
      socket.write(this.reply(OP_REPLY, requestId, this.run({ ...(query.$query ?? query), $db: db }, connectionId)));
      return;
    }
    if (opCode !== OP_MSG) throw new Error(`unsupported opCode ${opCode}`);
    const flags = message.readUInt32LE(16);
    const end = message.length - (flags & CHECKSUM_PRESENT ? 4 : 0);
    let body: Document = {};
    for (let offset = 20; offset < end;) {
      const kind = message[offset]!;
      offset += 1;
      const size = message.readInt32LE(offset);
      if (kind === 0) body = { ...BSON.deserialize(message.subarray(offset, offset + size)), ...body };
      else if (kind === 1) {
        // A document sequence: size, identifier (C string), then documents up to size.
        const idEnd = message.indexOf(0, offset + 4);
        const identifier = message.toString('utf8', offset + 4, idEnd);
        const documents: Document[] = [];
        for (let at = idEnd + 1; at < offset + size; at += message.readInt32LE(at)) {
          documents.push(BSON.deserialize(message.subarray(at, at + message.readInt32LE(at))));
        }
        body[identifier] = documents;
      } else throw new Error(`unknown OP_MSG section kind ${kind}`);
      offset += size;
    }
    const response = this.run(body, connectionId);
    if (!(flags & MORE_TO_COME)) socket.write(this.reply(OP_MSG, requestId, response));
  }

  private reply(opCode: number, responseTo: number, document: Document): Buffer {
    const bson = BSON.serialize(document);
    const header = Buffer.alloc(16);
    const prefix = opCode === OP_REPLY ? Buffer.alloc(20) : Buffer.alloc(5); // OP_REPLY: flags, cursorId, startingFrom, numberReturned
    if (opCode === OP_REPLY) prefix.writeInt32LE(1, 16);
    else prefix.writeUInt8(0, 4); // OP_MSG: flagBits 0, then a kind-0 section
    header.writeInt32LE(16 + prefix.length + bson.length, 0);
    header.writeInt32LE(++this.lastResponseId, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(opCode, 12);
    return Buffer.concat([header, prefix, bson]);
  }

  /** Runs one command and returns its reply document (errors as { ok: 0, code, errmsg }). */
  private run(command: Document, connectionId: number): Document {
    const name = Object.keys(command)[0] ?? '';
    this.commands.push(name);
    try {
      return { ...this.execute(name, command, connectionId), ok: 1 };
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName };
    }
  }

  private execute(name: string, command: Document, connectionId: number): Document {
    const db = String(command.$db ?? 'test');
    const namespace = `${db}.${String(command[name])}`;
    switch (name.toLowerCase()) {
      case 'hello':
      case 'ismaster':
        return {
          helloOk: true,
          ismaster: true,
          isWritablePrimary: true,
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId,
          minWireVersion: 0,
          maxWireVersion: MAX_WIRE_VERSION,
          readOnly: false,
        };
      case 'ping':
      case 'endsessions':
      case 'dropdatabase':
        return {};
      case 'buildinfo':
        return { version: '6.0.0', versionArray: [6, 0, 0, 0] };
      case 'insert':
        return this.insert(namespace, command.documents as Document[], command.ordered !== false);
      case 'find': {
        const limit = Number(command.limit ?? 0);
        const found = this.find(namespace, (command.filter as Document | undefined) ?? {});
        return { cursor: { id: Long.ZERO, ns: namespace, firstBatch: limit > 0 ? found.slice(0, limit) : found } };
      }
      case 'delete': {
        let n = 0;
        for (const { q, limit } of command.deletes as { q: Document; limit: number }[]) {
          for (const document of this.find(namespace, q).slice(0, limit === 1 ? 1 : undefined)) {
            this.data.get(namespace)!.delete(idKey(document._id));
            n++;
          }
        }
        return { n };
      }
      case 'createindexes':
        return this.createIndexes(namespace, command.indexes as IndexDescription[]);
      case 'listindexes':
        return {
          cursor: {
            id: Long.ZERO,
            ns: namespace,
            firstBatch: [{ v: 2, key: { _id: 1 }, name: '_id_' }, ...this.indexesOf(db, String(command[name]))],
          },
        };
      case 'drop':
        this.data.delete(namespace);
        this.indexes.delete(namespace);
        return { ns: namespace };
      case 'killcursors':
        return { cursorsKilled: [], cursorsNotFound: command.cursors ?? [], cursorsAlive: [], cursorsUnknown: [] };
      default:
        throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
    }
  }

  private insert(namespace: string, documents: Document[], ordered: boolean): Document {
    const collection = this.data.get(namespace) ?? new Map<string, Document>();
    this.data.set(namespace, collection);
    const writeErrors: Document[] = [];
    let n = 0;
    for (const [index, document] of documents.entries()) {
      const key = idKey(document._id);
      if (collection.has(key)) {
        writeErrors.push({
          index,
          code: 11000,
          errmsg: `E11000 duplicate key error collection: ${namespace} index: _id_ dup key: { _id: ${JSON.stringify(document._id)} }`,
        });
        if (ordered) break;
      } else {
        collection.set(key, document);
        n++;
      }
    }
    return writeErrors.length ? { n, writeErrors } : { n };
  }

  private find(namespace: string, filter: Document): Document[] {
    const matches = (document: Document) => Object.entries(filter).every(([key, value]) => idKey(document[key]) === idKey(value));
    return [...(this.data.get(namespace)?.values() ?? [])].filter(matches);
  }

  private createIndexes(namespace: string, wanted: IndexDescription[]): Document {
    const existing = this.indexes.get(namespace) ?? [];
    const before = existing.length + 1;
    for (const index of wanted) {
      const sameName = existing.find((other) => other.name === index.name);
      const sameKey = existing.find((other) => JSON.stringify(other.key) === JSON.stringify(index.key));
      const description = {
        key: index.key,
        name: index.name,
        ...(index.expireAfterSeconds === undefined ? {} : { expireAfterSeconds: index.expireAfterSeconds }),
      };
      if (sameName && JSON.stringify(sameName) !== JSON.stringify(description)) {
        throw new CommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index: ${index.name}`);
      }
      if (sameKey && sameKey.name !== index.name) {
        throw new CommandError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${sameKey.name}`);
      }
      if (!sameName) existing.push(description);
    }
    this.indexes.set(namespace, existing);
    return { numIndexesBefore: before, numIndexesAfter: existing.length + 1, createdCollectionAutomatically: before === 1 };
  }
}

/** A comparable key for a value of any BSON type (an _id, or a filter value). */
function idKey(value: unknown): string {
  return Buffer.from(BSON.serialize({ value })).toString('base64');
}
