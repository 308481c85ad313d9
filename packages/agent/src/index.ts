export { MSEG_NETNS, NFT_TABLE, exName, inName, neuvMac, isOurs } from './plumbing/names.js';
