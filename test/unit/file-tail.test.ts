// FileTail: what another process appended, in complete lines, a line or a character split between
// two reads kept whole.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileTail } from '../../src/util/file-tail.js';

describe('FileTail', () => {
  it('reads complete lines as they are appended; a missing file reads as nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-tail-'));
    const file = path.join(dir, 'log.jsonl');
    const tail = new FileTail(file);
    expect(tail.read()).toEqual([]);
    fs.writeFileSync(file, 'one\ntw');
    expect(tail.read()).toEqual(['one']);
    expect(tail.read()).toEqual([]);
    // "é" is two bytes: the first ends this write, the second starts the next.
    const e = Buffer.from('é');
    fs.appendFileSync(file, Buffer.concat([Buffer.from('o\nthr'), e.subarray(0, 1)]));
    expect(tail.read()).toEqual(['two']);
    fs.appendFileSync(file, Buffer.concat([e.subarray(1), Buffer.from('e\n\nfour\n')]));
    expect(tail.read()).toEqual(['thrée', 'four']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
