export { run, createProgram } from './program.js';
export { ApiClient, type Page } from './api/client.js';
export { ApiError, CliError, describeError } from './errors.js';
export { Supervisor, type ChildSpec, type SupervisorState } from './system/supervisor.js';
export { cleanupKernel } from './system/cleanup.js';
export { DEFAULT_LAYOUT, type Layout } from './system/layout.js';
