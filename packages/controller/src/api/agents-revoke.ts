/**
 * Revoking an agent (admin only, as every change): its credential stops working at once, on every
 * RPC and on its open policy stream, and it cannot register again under the same id.
 */
import { Type } from '@sinclair/typebox';
import { revokeAgent } from '../ingest/agents.js';
import type { ApiPlugin } from './index.js';
import { ErrorResponses } from './schemas/common.js';

const agentsRevoke: ApiPlugin = async (app, { ctx }) => {
  app.post(
    '/agents/:id/revoke',
    {
      schema: {
        tags: ['agents'],
        summary: 'Revoke an agent',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f-]+$' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ id: Type.String(), state: Type.Literal('revoked') }), ...ErrorResponses },
      },
    },
    async (req) => {
      await revokeAgent(ctx, req.params.id);
      return { id: req.params.id, state: 'revoked' as const };
    },
  );
};

export default agentsRevoke;
