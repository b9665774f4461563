/**
 * One abort listener per caller signal, however many deliveries share it (the manager passes the
 * same signal to every notification): a listener per delivery would make adding and removing them
 * linear in the queue length, and trips Node's max-listeners warning.
 */

/** Makes `watch(signal, member)`: when `signal` aborts, `onAbort` runs for every member still watched. Returns the unwatch function. */
export function createSignalWatch<T>(onAbort: (member: T, signal: AbortSignal) => void): (signal: AbortSignal, member: T) => () => void {
  const watched = new Map<AbortSignal, { members: Set<T>; onAbort: () => void }>();
  return (signal, member) => {
    let entry = watched.get(signal);
    if (!entry) {
      const members = new Set<T>();
      const abortAll = () => {
        watched.delete(signal);
        for (const each of [...members]) onAbort(each, signal);
      };
      entry = { members, onAbort: abortAll };
      watched.set(signal, entry);
      signal.addEventListener('abort', abortAll, { once: true });
    }
    const current = entry;
    current.members.add(member);
    return () => {
      current.members.delete(member);
      if (current.members.size === 0 && watched.get(signal) === current) {
        watched.delete(signal);
        signal.removeEventListener('abort', current.onAbort);
      }
    };
  };
}
