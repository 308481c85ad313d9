/**
 * TCP connection states as the data plane tracks them (a simplification of RFC 9293 §3.3.2 seen
 * from the middle of the path) and the idle timeouts of each, in seconds, as in the reference
 * enforcer. Non-TCP sessions use the per-protocol timeouts below.
 */
export const TcpState = {
  none: 0,
  synSent: 1,
  synReceived: 2,
  establishedNoData: 3,
  established: 4,
  halfClosed: 5,
  closed: 6,
  reset: 7,
} as const;

export const TCP_STATE_NAMES = ['none', 'syn-sent', 'syn-received', 'established-no-data', 'established', 'half-closed', 'closed', 'reset'] as const;

export const TIMEOUT = {
  opening: 20,
  establishedNoData: 30,
  established: 1200,
  halfClosed: 90,
  closed: 15,
  reset: 60,
  udp: 30,
  icmp: 5,
  other: 15,
} as const;

/** Idle timeout for a session in `state` of IP protocol `proto`. */
export function idleTimeout(proto: number, state: number): number {
  if (proto === 6) {
    switch (state) {
      case TcpState.synSent:
      case TcpState.synReceived:
        return TIMEOUT.opening;
      case TcpState.establishedNoData:
        return TIMEOUT.establishedNoData;
      case TcpState.established:
        return TIMEOUT.established;
      case TcpState.halfClosed:
        return TIMEOUT.halfClosed;
      case TcpState.closed:
        return TIMEOUT.closed;
      case TcpState.reset:
        return TIMEOUT.reset;
      default:
        return TIMEOUT.opening;
    }
  }
  if (proto === 17) return TIMEOUT.udp;
  if (proto === 1 || proto === 58) return TIMEOUT.icmp;
  return TIMEOUT.other;
}
