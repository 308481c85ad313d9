/** Helpers of the map's panels. */

/** A rule's group for a map node: its service group, or the reserved group of an address. */
export function ruleGroupOf(node: { kind: string; group: string; id: string }): string {
  if (node.group !== '') return node.group;
  return node.kind === 'host' ? 'nodes' : node.kind === 'external' ? 'external' : node.id;
}
