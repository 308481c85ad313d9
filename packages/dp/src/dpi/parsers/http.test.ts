import { describe, expect, it } from 'vitest';
import http from './http.js';
import { App } from '../apps.js';
import { CONTINUE, MATCH, NO_MATCH } from '../parser.js';
import { Threat } from '../../threat/catalog.js';
import { ascii, newFlow, offer, prefixMatches, randomSplits, refusals, type TestFlow } from '../../../test/db-kit.js';

http.slot = 0;

// http.pcapng, 192.168.1.128:42170 -> 216.58.208.142:80.
const CURL_GET = 'GET / HTTP/1.1\r\nHost: google.com\r\nUser-Agent: curl/7.68.0\r\nAccept: */*\r\n\r\n';
const GWS_301 =
  'HTTP/1.1 301 Moved Permanently\r\nLocation: http://www.google.com/\r\nContent-Type: text/html; charset=UTF-8\r\n' +
  'Date: Tue, 25 Jan 2022 16:50:41 GMT\r\nExpires: Thu, 24 Feb 2022 16:50:41 GMT\r\nCache-Control: public, max-age=2592000\r\n' +
  'Server: gws\r\nContent-Length: 219\r\nX-XSS-Protection: 0\r\nX-Frame-Options: SAMEORIGIN\r\n\r\n' +
  '<HTML><HEAD><meta http-equiv="content-type" content="text/html;charset=utf-8">\n<TITLE>301 Moved</TITLE></HEAD><BODY>\n' +
  '<H1>301 Moved</H1>\nThe document has moved\n<A HREF="http://www.google.com/">here</A>.\r\n</BODY></HTML>\r\n';

function follow(f: TestFlow, fromClient: boolean, s: string): boolean {
  if (fromClient) f.clientPackets++;
  else f.serverPackets++;
  const b = ascii(s);
  return http.follow!(f, b, 0, b.length, fromClient);
}

function request(s: string): TestFlow {
  const f = newFlow();
  expect(offer(http, f, true, ascii(s))).toBe(MATCH);
  return f;
}

const threats = (f: TestFlow): number[] => f.threats.map((t) => t[0]);

describe('http parser', () => {
  it('matches the curl request and reads the response from the capture', () => {
    const f = request(CURL_GET);
    expect(f.meta).toMatchObject({ method: 'GET', path: '/', host: 'google.com', userAgent: 'curl/7.68.0' });
    expect(GWS_301.length).toBe(528);
    expect(follow(f, false, GWS_301)).toBe(true);
    expect(f.meta.status).toBe(301);
    expect(f.meta.serverSoftware).toBe('gws');
    expect(f.threats).toEqual([]);
    expect(http.app).toBe(App.HTTP);
  });

  it('matches a response seen first and keeps reading keep-alive messages', () => {
    const f = newFlow();
    expect(offer(http, f, false, ascii('HTTP/1.0 200 OK\r\nServer: nginx/1.25\r\nContent-Length: 5\r\n\r\nhello'))).toBe(MATCH);
    expect(f.meta).toMatchObject({ status: 200, serverSoftware: 'nginx/1.25' });
    expect(follow(f, true, 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: y\r\n\r\n')).toBe(true);
    expect(f.meta.host).toBe('x');
    expect(follow(f, false, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n')).toBe(true);
    expect(f.threats).toEqual([]);
  });

  it('frames bodies by method and status (RFC 9112 §6.3)', () => {
    const f = request('HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n');
    // A HEAD response announces a length it does not send; the next response follows at once.
    expect(follow(f, false, 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n')).toBe(true);
    expect(follow(f, true, 'GET /b HTTP/1.1\r\n\r\n')).toBe(true);
    expect(follow(f, false, 'HTTP/1.1 200 OK\r\nServer: late\r\n\r\nbody until close')).toBe(true);
    expect(f.meta.serverSoftware).toBe('late');
    // A 2xx to CONNECT turns the connection into a tunnel: nothing more to read.
    const g = request('CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n');
    expect(follow(g, false, 'HTTP/1.1 200 Connection Established\r\n\r\n')).toBe(false);
    // Lost framing (a bad chunk size) ends that direction quietly.
    const h = request('POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    expect(follow(h, false, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toBe(true);
    expect(h.threats).toEqual([]);
  });

  it('reassembles lines split across segments', () => {
    const f = newFlow();
    expect(offer(http, f, true, ascii('GE'))).toBe(CONTINUE);
    expect(offer(http, f, true, ascii('T /index.html?a=1 HT'))).toBe(CONTINUE);
    expect(offer(http, f, true, ascii('TP/1.1\r\nHo'))).toBe(MATCH);
    follow(f, true, 'st: example.org\r\n\r\n');
    expect(f.meta).toMatchObject({ method: 'GET', path: '/index.html?a=1', host: 'example.org' });
  });

  it('refuses near misses', () => {
    for (const s of ['GET / HTTP/2.0\r\n', 'GET  / HTTP/1.1\r\n', 'GET / HTTP/1.1 x\r\n', 'get / HTTP/1.1\r\n', 'FOO / HTTP/1.1\r\n',
      'GET /\r\n', 'HTTP/1.1 2000 OK\r\n', 'HTTP/1.1 20 OK\r\n', 'HTTP/2 200\r\n', 'GETS / HTTP/1.1\r\n', 'GET /a\x01b HTTP/1.1\r\n',
      `GET /${'a'.repeat(5000)} HTTP/1.1\r\n`, 'SSH-2.0-x\r\n', 'RTSP/1.0 200 OK\r\n', 'GET / RTSP/1.0\r\n']) {
      expect(offer(http, newFlow(), true, ascii(s)), JSON.stringify(s.slice(0, 40))).toBe(NO_MATCH);
    }
  });

  it('never matches a strict prefix of a request line', () => {
    expect(prefixMatches(http, true, ascii(CURL_GET), 'GET / HTTP/1.1\r'.length + 1)).toBe(0);
  });

  it('refuses other protocols and random bytes', () => {
    // FOREIGN holds an HTTP request and response (two directions each).
    expect(refusals(http)).toBe(4);
  });

  it('turns an accepted WebSocket upgrade into WebSocket', () => {
    const f = request('GET /chat HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    expect(follow(f, false, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello')).toBe(false);
    expect(f.meta.app).toBe(App.WebSocket);
    const g = request('GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n');
    follow(g, false, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    expect(g.meta.app).toBe(0);
  });

  it('reports negative lengths and smuggling', () => {
    expect(threats(request('POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n'))).toEqual([Threat.HTTP_NEGATIVE_LENGTH]);
    expect(threats(request('POST / HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG'))).toEqual([Threat.HTTP_SMUGGLING]);
    expect(threats(request('POST / HTTP/1.1\r\nContent-Length: 6\r\nContent-Length: 5\r\n\r\n'))).toEqual([Threat.HTTP_SMUGGLING]);
    expect(threats(request('POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n'))).toEqual([Threat.HTTP_SMUGGLING]);
    expect(threats(request('POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nabcde'))).toEqual([]);
    expect(threats(request('POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'))).toEqual([]);
    // Detected in a later request on the connection too.
    const f = request(CURL_GET);
    follow(f, true, 'POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n');
    expect(threats(f)).toEqual([Threat.HTTP_SMUGGLING]);
  });

  it('reports SQL injection in the target, not in ordinary requests', () => {
    expect(threats(request("GET /login?user=admin'%20or%20'1'='1 HTTP/1.1\r\n\r\n"))).toEqual([Threat.SQL_INJECTION]);
    expect(threats(request('GET /item?id=-1+UNION+SELECT+1,2 HTTP/1.1\r\n\r\n'))).toEqual([Threat.SQL_INJECTION]);
    expect(threats(request('GET /search?q=rock+and+roll&page=2 HTTP/1.1\r\nHost: a\r\n\r\n'))).toEqual([]);
  });

  it('bounds copied metadata', () => {
    const f = request(`GET /${'p'.repeat(1000)} HTTP/1.1\r\nHost: ${'h'.repeat(300)}\r\nUser-Agent: ${'u'.repeat(600)}\r\n\r\n`);
    expect(f.meta.path!.length).toBe(256);
    expect(f.meta.host).toBeUndefined();
    expect(f.meta.userAgent!.length).toBe(255);
  });

  it('never throws on random splits', () => {
    const h = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
    for (let s = 1; s < 80; s++) {
      const seen = randomSplits(http, [[true, h(CURL_GET)], [false, h(GWS_301)], [true, h('POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n')]], s);
      expect(seen).toContain(MATCH);
    }
  });
});
