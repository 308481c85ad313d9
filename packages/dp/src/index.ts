/**
 * Public surface of @mseg/dp for the other packages (agent, controller): the application names,
 * the policy rule grammar, and the control-socket contract. The data plane itself runs as the
 * `mseg-dp` process.
 */
export { APP_NAMES, appId, appName, type AppName } from './dpi/apps.js';
export { parsePorts, policySchema, ruleSchema, modeSchema, describeZodError, type PortRange, type RuleSpec, type PolicySpec, type Mode } from './policy/model.js';
export { THREATS, Threat, Severity, threatDef, type ThreatDef, type SeverityName } from './threat/catalog.js';
export { agentMessageSchema, type AgentMessage, type DnsAnswerRecord, type DpMessage } from './control/messages.js';
export { encodeFrame, FrameDecoder, MAX_FRAME } from './control/framing.js';
export type { ConnectionRecord, DirectionName } from './report/connection-aggregator.js';
export type { ThreatRecord } from './threat/threat-log.js';
export { parseAddress, parseCidr, cidrContains, formatAddress, type Cidr } from './net/address.js';
export { mirrorProgram, PROG_TYPE_SCHED_CLS, PROGRAM_LICENSE, PROGRAM_NAME, PROGRAM_VERSION, type MirrorProgramParams } from './bypass/program.js';
export { isBypassMap, KEY_SIZE, MAP_ENTRIES, MAP_NAME, MAP_TYPE_HASH, VALUE_BYTES, VALUE_PACKETS, VALUE_SIZE, writeKey } from './bypass/layout.js';
