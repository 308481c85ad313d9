/**
 * GET /connections: the controller's own schemas (packages/controller/src/api/connections.ts), so
 * a field changed there fails the web's typecheck instead of drifting. Types only.
 */
import type { ConnectionQuery, Conversation as ConversationItem } from '@mseg/controller/dist/api/connections.js';
import type { ListFilters } from '../../lib/page';

export type Conversation = ConversationItem;
export type Verdict = Conversation['verdict'];
export type ConnectionFilters = ListFilters<ConnectionQuery>;

/** Every verdict, in the filter's order. */
export const VERDICTS = ['allow', 'violate', 'deny'] as const satisfies readonly Verdict[];
