/** The envelope of every list answer of the API. */
export interface Page<T> {
  items: T[];
  /** matching items over all pages */
  total: number;
  limit: number;
  offset: number;
}

/**
 * A list route's filters as the web sends them: the route's querystring type (from the
 * controller's schema) without paging, and the time window in ms since the epoch.
 */
export type ListFilters<Q> = Partial<Omit<Q, 'limit' | 'offset' | 'since' | 'until'>> & { since?: number; until?: number };

/** The API's largest page. */
export const MAX_LIMIT = 1000;
