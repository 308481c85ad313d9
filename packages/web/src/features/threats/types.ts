/**
 * GET /threats: the controller's own schemas (packages/controller/src/api/threats.ts), so a field
 * changed there fails the web's typecheck instead of drifting. Types only.
 */
import type { ThreatItem, ThreatQuery } from '@mseg/controller/dist/api/threats.js';
import type { ListFilters } from '../../lib/page';

export type Threat = ThreatItem;
export type Severity = Threat['severity'];
export type ThreatFilters = ListFilters<ThreatQuery>;

/** Every severity, worst first: the filters' order. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const satisfies readonly Severity[];
