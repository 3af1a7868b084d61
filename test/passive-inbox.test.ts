/** The passive-message inbox every transport shares: arrival order, waiting receivers, timeouts, release. */
import test from 'ava';
import { PassiveInbox } from '../pgas/passive-inbox.js';

const message = (rank: number): { rank: number; data: Uint8Array } => ({ rank, data: Uint8Array.of(rank) });

test('queued messages come out in arrival order; an empty inbox tested with 0 answers undefined', async (t) => {
  const inbox = new PassiveInbox();
  t.is(await inbox.receive(0), undefined);
  inbox.deliver(message(3));
  inbox.deliver(message(1));
  t.is((await inbox.receive(0))?.rank, 3);
  t.is((await inbox.receive(Infinity))?.rank, 1);
  t.is(await inbox.receive(0), undefined);
});

test('a message goes to the longest-waiting receiver', async (t) => {
  const inbox = new PassiveInbox();
  const first = inbox.receive(Infinity);
  const second = inbox.receive(60_000);
  inbox.deliver(message(7));
  inbox.deliver(message(8));
  t.is((await first)?.rank, 7);
  t.is((await second)?.rank, 8);
});

test('a receiver that timed out no longer takes a message: the next one gets it', async (t) => {
  const inbox = new PassiveInbox();
  t.is(await inbox.receive(5), undefined);
  const waiting = inbox.receive(Infinity);
  inbox.deliver(message(2));
  t.is((await waiting)?.rank, 2);
});

test('releaseReceivers resolves every waiting receive with undefined and keeps later messages', async (t) => {
  const inbox = new PassiveInbox();
  const waiting = [inbox.receive(Infinity), inbox.receive(60_000)];
  inbox.releaseReceivers();
  t.deepEqual(await Promise.all(waiting), [undefined, undefined]);
  inbox.deliver(message(4));
  t.is((await inbox.receive(0))?.rank, 4);
});
