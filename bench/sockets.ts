/** Open sockets of this process: entries of /proc/self/fd that link to `socket:[…]` (Linux). */
import { readdirSync, readlinkSync } from 'node:fs';

export function countSockets(): number {
  let sockets = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // the fd closed while we looked
    }
  }
  return sockets;
}
