/**
 * What the data plane itself counted, for the soak: a second client on the DP's control socket
 * (the DP serves any number and broadcasts its reports to each) that keeps the connection
 * records of one server address and port that count sessions.
 * It only listens: it sends nothing, so the agent's view of the DP is unchanged.
 */
import { connect, type Socket } from 'node:net';
import { FrameDecoder, type DpMessage } from '@mseg/dp';

export interface DpRecord {
  /** The reporting tap's workload ('' : a port the DP no longer knew). */
  workloadId: string;
  client: string;
  /** Capture time (s) of the record's first session. */
  firstSeen: number;
  sessions: number;
}

export interface DpCounts {
  records: DpRecord[];
  /** The ring's drop counter from the DP's last stats message. */
  captureDrops: number;
  close(): void;
}

export async function listenToDp(socket: string, server: string, serverPort: number): Promise<DpCounts> {
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = connect(socket);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const counts: DpCounts = { records: [], captureDrops: 0, close: () => sock.destroy() };
  const decoder = new FrameDecoder();
  sock.on('data', (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) {
      const m = JSON.parse(f.toString('utf8')) as DpMessage;
      if (m.type === 'stats') counts.captureDrops = m.capture?.drops ?? counts.captureDrops;
      if (m.type !== 'connections') continue;
      for (const r of m.items) {
        if (r.server !== server || r.serverPort !== serverPort || r.sessions === 0) continue;
        counts.records.push({ workloadId: r.workloadId, client: r.client, firstSeen: r.firstSeen, sessions: r.sessions });
      }
    }
  });
  sock.on('error', () => undefined);
  return counts;
}
