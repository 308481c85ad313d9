/**
 * FTP control connections (RFC 959). The server greets with 220 (or 120 then 220, §5.4); the
 * client logs in with USER (§4.1.1) or first secures the connection with AUTH (RFC 2228 §3,
 * RFC 4217 §4). FEAT, SYST and OPTS may come before (RFC 2389 §3). A session seen from the
 * client's USER/AUTH on needs the server's answer to it: 331/332/230 to USER, 234/334 to AUTH.
 * FTP data connections carry bare file bytes and are not claimed.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, parserState, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { isVerbLine, lineEnd, replyCode, replyText } from './text-reply.js';

/** Longest command or reply line looked at; RFC 959 sets no limit, real lines are short. */
const MAX_LINE = 512;

const GREETED = 1;
const LOGIN_SENT = 2;

class FtpState {
  phase = 0;
  banner = '';
}

function isLogin(b: Uint8Array, off: number, end: number): boolean {
  return isVerbLine(b, off, end, 'USER', MAX_LINE) || isVerbLine(b, off, end, 'AUTH', MAX_LINE);
}

/** RFC 2389 §3 FEAT and §4 OPTS, RFC 959 §4.1.3 SYST: what clients ask before logging in. */
function isPreLogin(b: Uint8Array, off: number, end: number): boolean {
  return (
    isVerbLine(b, off, end, 'FEAT', MAX_LINE) ||
    isVerbLine(b, off, end, 'SYST', MAX_LINE) ||
    isVerbLine(b, off, end, 'OPTS', MAX_LINE)
  );
}

/** RFC 959 §5.4 USER replies 230, 331, 332; RFC 2228 §4 AUTH replies 234, 334. */
function answersLogin(code: number): boolean {
  return code === 331 || code === 332 || code === 230 || code === 234 || code === 334;
}

const ftp = {
  app: App.FTP,
  name: 'ftp',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const end = off + len;
    const st = parserState(flow, this.slot, FtpState);
    if (!fromClient) {
      // The rest of a multiline greeting (RFC 959 §4.2 "220-") or answers to FEAT/SYST/OPTS.
      if (st.phase === GREETED) return CONTINUE;
      const code = replyCode(b, off, end);
      if (code < 0 || lineEnd(b, off, end, MAX_LINE) < 0) return NO_MATCH;
      if (st.phase === LOGIN_SENT) {
        if (!answersLogin(code)) return NO_MATCH;
        if (st.banner !== '') flow.meta.banner = st.banner;
        return MATCH;
      }
      // RFC 959 §5.4: connection establishment answers 120 (ready soon), 220 or 421.
      if (code === 120) return CONTINUE;
      if (code !== 220) return NO_MATCH;
      st.banner = replyText(b, off, end);
      st.phase = GREETED;
      return CONTINUE;
    }
    if (isLogin(b, off, end)) {
      if (st.phase === GREETED) {
        flow.meta.banner = st.banner;
        return MATCH;
      }
      st.phase = LOGIN_SENT;
      return CONTINUE;
    }
    return st.phase === GREETED && isPreLogin(b, off, end) ? CONTINUE : NO_MATCH;
  },
};

export default ftp satisfies DpiParser;
