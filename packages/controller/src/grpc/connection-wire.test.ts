import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ConnectionSchema, Direction, ReportConnectionsRequestEncodedSchema, ReportConnectionsRequestSchema, Verdict } from '@mseg/proto';
import { describe, expect, it } from 'vitest';
import { isMsegError } from '../errors.js';
import { decodeConnection } from './connection-wire.js';

const encode = (init: MessageInitShape<typeof ConnectionSchema>) => toBinary(ConnectionSchema, create(ConnectionSchema, init));

const full = {
  workloadId: 'w-web-1',
  client: '10.1.0.2',
  server: 'fd00::3',
  serverPort: 5432,
  proto: 6,
  app: 'postgresql',
  direction: Direction.EGRESS,
  ruleId: 4_000_000_000,
  action: Verdict.VIOLATE,
  bytesToServer: 2n ** 53n - 1n,
  bytesToClient: 1_234_567_890_123n,
  packetsToServer: 300n,
  packetsToClient: 127n,
  sessions: 128,
  firstSeen: 1_764_115_200.125,
  lastSeen: 1_764_115_204.9,
  violations: 3,
  threatSeverity: 5,
};

function errorOf(fn: () => unknown): { field?: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isMsegError(e)) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

describe('decodeConnection', () => {
  it('reads every field as the agent encoded it', () => {
    expect(decodeConnection(encode(full), 0)).toEqual({
      workloadId: 'w-web-1',
      client: '10.1.0.2',
      server: 'fd00::3',
      serverPort: 5432,
      proto: 6,
      app: 'postgresql',
      direction: 'egress',
      ruleId: 4_000_000_000,
      action: 'violate',
      bytesToServer: 2 ** 53 - 1,
      bytesToClient: 1_234_567_890_123,
      packetsToServer: 300,
      packetsToClient: 127,
      sessions: 128,
      firstSeen: 1_764_115_200.125,
      lastSeen: 1_764_115_204.9,
      violations: 3,
      threatSeverity: 5,
    });
  });

  it('gives proto3 defaults for absent fields and reads non-ASCII text', () => {
    const r = decodeConnection(encode({ action: Verdict.ALLOW, app: 'jsön-ü', workloadId: 'wörk' }), 0);
    expect(r).toMatchObject({ workloadId: 'wörk', client: '', server: '', serverPort: 0, app: 'jsön-ü', direction: 'none', bytesToServer: 0, firstSeen: 0, action: 'allow' });
  });

  it('skips fields it does not know, of every wire type, and known numbers sent with another wire type', () => {
    const w = new BinaryWriter();
    w.raw(encode(full));
    w.tag(40, WireType.Varint).uint64(2n ** 63n);
    w.tag(41, WireType.Bit64).double(1.5);
    w.tag(42, WireType.LengthDelimited).string('future field');
    w.tag(43, WireType.Bit32).fixed32(7);
    w.tag(4, WireType.LengthDelimited).bytes(new Uint8Array([1, 2, 3]));
    const r = decodeConnection(w.finish(), 0);
    expect(r.serverPort).toBe(5432);
    expect(r.app).toBe('postgresql');
    expect(r.lastSeen).toBe(1_764_115_204.9);
  });

  it('agrees with the generic decoder on 32-bit truncation and unknown directions', () => {
    const w = new BinaryWriter();
    w.tag(4, WireType.Varint).uint64(2n ** 32n + 80n);
    w.tag(7, WireType.Varint).int32(9);
    w.tag(9, WireType.Varint).int32(Verdict.DENY);
    const bytes = w.finish();
    const generic = fromBinary(ConnectionSchema, bytes);
    const r = decodeConnection(bytes, 0);
    expect(r.serverPort).toBe(generic.serverPort);
    expect(r.serverPort).toBe(80);
    expect(r.direction).toBe('none');
    expect(r.action).toBe('deny');
  });

  it('refuses an unspecified or unknown verdict, naming the record', () => {
    expect(errorOf(() => decodeConnection(encode({ ...full, action: Verdict.UNSPECIFIED }), 3))).toEqual({
      field: 'connections[3].action',
      message: 'connections[3].action: must be allow, deny or violate',
    });
    const w = new BinaryWriter();
    w.tag(9, WireType.Varint).int32(7);
    expect(errorOf(() => decodeConnection(w.finish(), 0)).field).toBe('connections[0].action');
  });

  it('refuses truncated and malformed bytes with the record named', () => {
    const bytes = encode(full);
    // After a tag, inside a string, inside a double (first_seen: tag 15 << 3 | 1), inside a varint tag.
    const double = bytes.indexOf(15 * 8 + 1);
    for (const cut of [1, 5, double + 4, bytes.length - 2]) {
      expect(errorOf(() => decodeConnection(bytes.subarray(0, cut), 7)).field).toBe('connections[7]');
    }
    expect(errorOf(() => decodeConnection(new Uint8Array([0x00, 0x01]), 0)).message).toMatch(/field number 0/);
    expect(errorOf(() => decodeConnection(new Uint8Array([0x0a, 0x02, 0xc3, 0x28]), 0)).message).toMatch(/not UTF-8/);
    expect(errorOf(() => decodeConnection(new Uint8Array([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0)).message).toMatch(
      /varint longer than 10 bytes/,
    );
  });

  it('reads the connections of a ReportConnectionsRequest through the encoded view of the same bytes', () => {
    const req = create(ReportConnectionsRequestSchema, {
      batchId: 'b-1',
      connections: [full, { ...full, workloadId: 'w-db-1', direction: Direction.INGRESS, action: Verdict.ALLOW }],
      dnsAnswers: [{ name: 'db.example', ip: 'fd00::3' }],
    });
    const view = fromBinary(ReportConnectionsRequestEncodedSchema, toBinary(ReportConnectionsRequestSchema, req));
    expect(view.batchId).toBe('b-1');
    expect(view.dnsAnswers.map((d) => [d.name, d.ip])).toEqual([['db.example', 'fd00::3']]);
    expect(view.connections.map(decodeConnection).map((c) => [c.workloadId, c.direction, c.action])).toEqual([
      ['w-web-1', 'egress', 'violate'],
      ['w-db-1', 'ingress', 'allow'],
    ]);
  });
});
