/**
 * The parsers in the order they are offered a payload. More specific protocols come before the
 * general ones that could also accept their bytes (e.g. a refinement of HTTP before HTTP).
 * Each parser module exports one `DpiParser` as its default export.
 */
import type { DpiParser } from './parser.js';
import mysql from './parsers/mysql.js';
import postgresql from './parsers/postgresql.js';

export const PARSERS: readonly DpiParser[] = [
  mysql,
  postgresql,
];
