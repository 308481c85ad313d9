/**
 * GET /violations: the controller's own schemas (packages/controller/src/api/violations.ts), so a
 * field changed there fails the web's typecheck instead of drifting. Types only: nothing of the
 * controller is bundled.
 */
import type { ViolationItem, ViolationQuery } from '@mseg/controller/dist/api/violations.js';
import type { ListFilters } from '../../lib/page';

export type Violation = ViolationItem;
export type ViolationAction = Violation['action'];
export type ViolationFilters = ListFilters<ViolationQuery>;
