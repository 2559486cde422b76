/**
 * A 32-bit hash of a string that never changes between versions or processes: FNV-1a over the UTF-16
 * code units, then murmur3's finaliser so that near keys (queue-1, queue-2) spread. For spreading and
 * assigning work deterministically (shards, refit phases), not for security.
 */
export function stableHash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
