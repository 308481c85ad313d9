// Loads the native addon built by `npm install` (node-gyp) and re-exports it as an ES module.
import { createRequire } from 'node:module';

const binding = createRequire(import.meta.url)('./build/Release/mseg_capture.node');

export const {
  Capture,
  netlinkRequest,
  bpfMapCreate,
  bpfObjGet,
  bpfObjPin,
  bpfMapInfo,
  bpfProgLoad,
  bpfProgTestRun,
  bpfMapLookup,
  bpfMapUpdate,
  bpfMapDelete,
  bpfMapClear,
  closeFd,
  isBpfFs,
  FRAME_WORDS,
  FRAME_OFFSET,
  FRAME_CAPLEN,
  FRAME_WIRELEN,
  FRAME_IFINDEX,
  FRAME_SEC,
  FRAME_NSEC,
  FRAME_VLAN,
  FRAME_PKTTYPE,
} = binding;
