/**
 * The parsers in the order they are offered a payload. More specific protocols come before the
 * general ones that could also accept their bytes (e.g. a refinement of HTTP before HTTP).
 * Each parser module exports one `DpiParser` as its default export.
 */
import type { DpiParser } from './parser.js';
import mysql from './parsers/mysql.js';
import postgresql from './parsers/postgresql.js';
import tftp from './parsers/tftp.js';
import dhcp from './parsers/dhcp.js';
import ntp from './parsers/ntp.js';
import dns from './parsers/dns.js';
import syslog from './parsers/syslog.js';
import smtp from './parsers/smtp.js';
import ftp from './parsers/ftp.js';
import mqtt from './parsers/mqtt.js';
import nats from './parsers/nats.js';
import ssh from './parsers/ssh.js';
import tls from './parsers/tls.js';
import http from './parsers/http.js';
import http2 from './parsers/http2.js';
import websocket from './parsers/websocket.js';
import redis from './parsers/redis.js';
import memcached from './parsers/memcached.js';
import mongodb from './parsers/mongodb.js';
import kafka from './parsers/kafka.js';
import cassandra from './parsers/cassandra.js';
import zookeeper from './parsers/zookeeper.js';
import amqp from './parsers/amqp.js';
import elasticsearch from './parsers/elasticsearch.js';
import tds from './parsers/tds.js';
import tns from './parsers/tns.js';

export const PARSERS: readonly DpiParser[] = [
  mysql,
  postgresql,
  tftp,
  dhcp,
  ntp,
  dns,
  syslog,
  smtp,
  ftp,
  mqtt,
  nats,
  ssh,
  tls,
  http2,
  http,
  redis,
  memcached,
  mongodb,
  zookeeper,
  kafka,
  cassandra,
  amqp,
  elasticsearch,
  tds,
  tns,
  websocket,
];
