/** The envelope of every list answer of the API. */
export interface Page<T> {
  items: T[];
  /** matching items over all pages */
  total: number;
  limit: number;
  offset: number;
}

/** The API's largest page. */
export const MAX_LIMIT = 1000;
