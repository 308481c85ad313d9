/** GET /system/summary and GET /stats (packages/controller/src/api/system.ts, stats.ts). */
export interface Summary {
  agents: { online: number; total: number };
  workloads: { running: number; total: number };
  groups: number;
  rules: number;
  connections5m: number;
  violations24h: number;
  threats24h: number;
  time: number;
}

export interface Totals {
  bytes: number;
  packets: number;
  sessions: number;
  violations: number;
  bytesPerSecond: number;
  sessionsPerSecond: number;
}

export interface Stats {
  at: number;
  system: { '5s': Totals; '60s': Totals; '300s': Totals };
  workloads: { id: string; windows: { '5s': Totals; '60s': Totals; '300s': Totals } }[];
  total: number;
}

export interface AppUsage {
  app: string;
  sessions: number;
  bytes: number;
}

export interface TopApps {
  apps: AppUsage[];
  /** conversations the figures are computed from */
  counted: number;
  /** conversations in the window; more than `counted` when the window had more than one page */
  total: number;
}

export interface TrafficPoint {
  t: number;
  bytes: number;
  sessions: number;
}
