// Worker inboxes as maildirs: the coordinator writes a message in tmp/ and renames it into new/;
// the worker claims it by renaming it into cur/. Renames are atomic, so a message is seen whole
// and claimed once.
import fs from 'node:fs';
import path from 'node:path';
import { monotonicFactory } from 'ulid';
import { InboxMessageSchema, type InboxMessage } from './schemas.js';

const nextId = monotonicFactory();

/** The three directories of a maildir (see RunPaths.inbox). */
export interface Maildir {
  tmp: string;
  new: string;
  cur: string;
}

/** Creates the maildir's directories. */
export function createMaildir(box: Maildir): void {
  for (const dir of [box.tmp, box.new, box.cur]) fs.mkdirSync(dir, { recursive: true });
}

/**
 * Delivers a message: writes tmp/<ulid>.json, then renames it to new/<ulid>.json. Names are
 * monotonic ULIDs, so sorting names gives delivery order. Returns the message's name.
 */
export function deliver(box: Maildir, message: InboxMessage): string {
  const name = `${nextId()}.json`;
  const tmp = path.join(box.tmp, name);
  fs.writeFileSync(tmp, JSON.stringify(message) + '\n');
  fs.renameSync(tmp, path.join(box.new, name));
  return name;
}

/** A message waiting in new/, read but not yet claimed. */
export interface PendingMessage {
  name: string;
  message: InboxMessage;
}

/** Lists unclaimed messages in delivery order. Files that are not valid messages are skipped and returned in `bad`. */
export function listNew(box: Maildir): { messages: PendingMessage[]; bad: string[] } {
  return listIn(box.new);
}

/** Lists claimed messages (in cur/), in delivery order. */
export function listClaimed(box: Maildir): PendingMessage[] {
  return listIn(box.cur).messages;
}

function listIn(dir: string): { messages: PendingMessage[]; bad: string[] } {
  let names: string[];
  try {
    names = fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { messages: [], bad: [] };
    throw e;
  }
  const messages: PendingMessage[] = [];
  const bad: string[] = [];
  for (const name of names) {
    try {
      const parsed = InboxMessageSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')));
      if (parsed.success) messages.push({ name, message: parsed.data });
      else bad.push(name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') bad.push(name);
    }
  }
  return { messages, bad };
}

/** Claims a message by renaming new/<name> into cur/. Returns false if it was already gone. */
export function claim(box: Maildir, name: string): boolean {
  try {
    fs.renameSync(path.join(box.new, name), path.join(box.cur, name));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Takes back an unclaimed message: the first one in new/ that `match` accepts is claimed into cur/
 * by the caller instead of the worker (used by a resumed coordinator for an assignment an old
 * worker will never run). Returns true if a message was taken back, false if none was waiting.
 */
export function revoke(box: Maildir, match: (m: InboxMessage) => boolean): boolean {
  for (const { name, message } of listNew(box).messages) {
    if (match(message) && claim(box, name)) return true;
  }
  return false;
}
