/**
 * SMTP (RFC 5321). The server speaks first with a 220 greeting (§4.3.1, §3.1); the client then
 * introduces itself with EHLO or HELO (§4.1.1.1). A greeting that names (E)SMTP is enough; any
 * other 220 greeting needs the EHLO/HELO after it (FTP servers also greet with 220). A session
 * seen from the client's EHLO/HELO on needs the server's 250 answer to it.
 */
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH, TCP, parserState, type DpiFlow, type DpiParser, type Verdict } from '../parser.js';
import { containsWord, isVerbLine, lineEnd, replyCode, replyText } from './text-reply.js';

/** RFC 5321 §4.5.3.1.4: a command line is at most 512 octets; §4.5.3.1.5 a reply line likewise. */
const MAX_LINE = 512;

const GREETED = 1;
const HELLO_SENT = 2;

class SmtpState {
  phase = 0;
  banner = '';
}

function isHello(b: Uint8Array, off: number, end: number): boolean {
  return isVerbLine(b, off, end, 'EHLO', MAX_LINE) || isVerbLine(b, off, end, 'HELO', MAX_LINE);
}

const smtp = {
  app: App.SMTP,
  name: 'smtp',
  transports: TCP,
  slot: -1,

  classify(flow: DpiFlow, b: Uint8Array, off: number, len: number, fromClient: boolean): Verdict {
    const end = off + len;
    const st = parserState(flow, this.slot, SmtpState);
    if (!fromClient) {
      const code = replyCode(b, off, end);
      if (st.phase === 0) {
        // RFC 5321 §4.3.1: "220 <domain> Service ready" opens the session.
        if (code !== 220 || lineEnd(b, off, end, MAX_LINE) < 0) return NO_MATCH;
        st.phase = GREETED;
        st.banner = replyText(b, off, end);
        if (!containsWord(b, off + 4, lineEnd(b, off, end, MAX_LINE), 'SMTP')) return CONTINUE;
        flow.meta.banner = st.banner;
        return MATCH;
      }
      // The rest of a multiline greeting (RFC 5321 §4.2.1 "220-").
      if (st.phase === GREETED) return CONTINUE;
      // RFC 5321 §4.3.2: EHLO/HELO succeed with 250.
      return st.phase === HELLO_SENT && code === 250 ? MATCH : NO_MATCH;
    }
    if (!isHello(b, off, end)) return NO_MATCH;
    if (st.phase === GREETED) {
      flow.meta.banner = st.banner;
      return MATCH;
    }
    st.phase = HELLO_SENT;
    return CONTINUE;
  },
};

export default smtp satisfies DpiParser;
