/**
 * Public surface of @mseg/proto: the agent↔controller service and its messages (generated into
 * gen/ by `npm run generate`; never edited by hand). File descriptors stay internal.
 */
export { AgentService } from './gen/mseg/agent/v1/agent_service_pb.js';
export {
  RegisterRequestSchema,
  RegisterResponseSchema,
  DataPlaneStatusSchema,
  HeartbeatRequestSchema,
  HeartbeatResponseSchema,
  ReportWorkloadsRequestSchema,
  ReportWorkloadsResponseSchema,
  ReportConnectionsRequestSchema,
  ReportConnectionsRequestEncodedSchema,
  ReportConnectionsResponseSchema,
  ReportThreatsRequestSchema,
  ReportThreatsResponseSchema,
  ReportViolationsRequestSchema,
  ReportViolationsResponseSchema,
  WatchPolicyRequestSchema,
  WatchPolicyResponseSchema,
  type RegisterRequest,
  type RegisterResponse,
  type DataPlaneStatus,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type ReportWorkloadsRequest,
  type ReportWorkloadsResponse,
  type ReportConnectionsRequest,
  type ReportConnectionsRequestEncoded,
  type ReportConnectionsResponse,
  type ReportThreatsRequest,
  type ReportThreatsResponse,
  type ReportViolationsRequest,
  type ReportViolationsResponse,
  type WatchPolicyRequest,
  type WatchPolicyResponse,
} from './gen/mseg/agent/v1/agent_service_pb.js';
export { WorkloadSchema, InterfaceSchema, WorkloadState, type Workload, type Interface } from './gen/mseg/agent/v1/workload_pb.js';
export {
  ConnectionSchema,
  DnsAnswerSchema,
  ThreatSchema,
  ViolationSchema,
  Verdict,
  Direction,
  type Connection,
  type DnsAnswer,
  type Threat,
  type Violation,
} from './gen/mseg/agent/v1/report_pb.js';
export { RuleSchema, WorkloadPolicySchema, PolicyMode, RuleAction, type Rule, type WorkloadPolicy } from './gen/mseg/agent/v1/policy_pb.js';
