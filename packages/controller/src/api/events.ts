/**
 * The live stream for the UI as Server-Sent Events: every EventBus event is relayed as
 * `event: <name>` / `data: <json>`. A comment line every 15 s keeps proxies from closing an idle
 * stream and re-checks the token, so a stream ends when its session expires or is logged out.
 */
import { Type } from '@sinclair/typebox';
import type { ServerResponse } from 'node:http';
import { resolveToken } from '../auth/sessions.js';
import type { EventName } from '../events/bus.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses } from './schemas/common.js';

export const HEARTBEAT_MS = 15_000;
/** A client this far behind is not reading; it is cut off rather than buffered without bound. */
const MAX_BUFFERED = 1024 * 1024;

// A Record over EventName: adding an event to the bus without listing it here fails to compile.
const RELAYED: Record<EventName, true> = {
  policy: true,
  workloads: true,
  agents: true,
  connections: true,
  violations: true,
  threats: true,
  config: true,
};
const NAMES = Object.keys(RELAYED) as EventName[];

const events: ApiPlugin = async (app, { ctx }) => {
  const open = new Set<ServerResponse>();
  // Streams never end on their own, and the server's close waits for open connections: end them
  // in preClose (before that wait; onClose would come after it and never run).
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get(
    '/events',
    {
      config: { queryToken: true },
      schema: {
        tags: ['events'],
        summary: 'Live event stream (text/event-stream); EventSource may pass the token as ?token=',
        querystring: Type.Object(
          {
            token: Type.Optional(Type.String({ maxLength: 128 })),
            events: Type.Optional(Type.String({ maxLength: 256, pattern: `^(${NAMES.join('|')})(,(${NAMES.join('|')}))*$`, description: 'comma-separated event names; all when absent' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.String({ description: 'text/event-stream' }), ...ErrorResponses },
      },
    },
    (req, reply) => {
      const wanted = req.query.events ? (req.query.events.split(',') as EventName[]) : NAMES;
      const token = req.token!;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
        // nginx and similar proxies would otherwise hold events back in their buffers.
        'x-accel-buffering': 'no',
      });
      open.add(res);
      const send = (chunk: string) => {
        if (res.writableLength > MAX_BUFFERED) res.destroy();
        else res.write(chunk);
      };
      const offs = wanted.map((name) => ctx.events.on(name, (data) => send(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)));
      const heartbeat = setInterval(() => {
        resolveToken(ctx, token).then(
          (user) => (user ? send(': heartbeat\n\n') : res.end()),
          () => res.end(),
        );
      }, HEARTBEAT_MS);
      res.on('close', () => {
        clearInterval(heartbeat);
        for (const off of offs) off();
        open.delete(res);
      });
      send(': connected\n\n');
    },
  );
};

export default events;
