/** What DPI learnt about one flow. Strings are copied out of packet buffers. */
export interface FlowMeta {
  /** App id (apps.ts); a parser may refine the one it matched with (HTTP → WebSocket, HTTP2 → gRPC). */
  app: number;
  /** TLS */
  sni?: string;
  alpn?: string[];
  /** Highest TLS version seen, as the wire value (0x0303 = TLS 1.2, 0x0304 = TLS 1.3). */
  tlsVersion?: number;
  /** HTTP/1.x, HTTP/2 */
  host?: string;
  method?: string;
  path?: string;
  status?: number;
  /** HTTP `Server` header (named apart from the flow's server endpoint). */
  serverSoftware?: string;
  userAgent?: string;
  /** DNS: queried names and answers (name → addresses), feeds FQDN rules. */
  dnsNames?: string[];
  dnsAnswers?: { name: string; addr: string; ttl: number }[];
  /** Banner or product/version string where the protocol sends one (SSH, SMTP, FTP, MySQL). */
  banner?: string;
  /** Database/user names or other short protocol facts worth showing. */
  detail?: string;
}

export function newMeta(): FlowMeta {
  return { app: 0 };
}
