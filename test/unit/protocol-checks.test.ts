// What a run directory's readers refuse before anything else: a protocol version they cannot read,
// and a run id that is not a ULID as fileswarm makes them.
import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { RUN_ID_PATTERN } from '../../src/protocol/run-id.js';
import { ProtocolField } from '../../src/protocol/schemas.js';

const messageOf = (input: unknown): string | undefined => ProtocolField.safeParse(input).error?.issues[0]?.message;

describe('the protocol field', () => {
  it('reads versions 2 and 3', () => {
    expect(ProtocolField.parse(2)).toBe(2);
    expect(ProtocolField.parse(3)).toBe(3);
  });

  it('says why it refuses a version: older, newer, missing, or not a version', () => {
    expect(messageOf(1)).toBe(
      '1: written by an older fileswarm, whose run directories this one cannot read (this fileswarm reads protocols 2 and 3)',
    );
    expect(messageOf(4)).toBe(
      '4: written by a newer fileswarm (this fileswarm reads protocols 2 and 3); upgrade fileswarm to read it',
    );
    expect(messageOf(undefined)).toBe(
      'missing (this fileswarm reads protocols 2 and 3; was the file written by fileswarm?)',
    );
    expect(messageOf('3')).toBe('"3" is not a protocol version (this fileswarm reads protocols 2 and 3)');
    expect(messageOf(2.5)).toBe('2.5 is not a protocol version (this fileswarm reads protocols 2 and 3)');
  });
});

describe('run ids', () => {
  it('accepts the ids ulid() makes', () => {
    for (let i = 0; i < 20; i++) expect(ulid()).toMatch(RUN_ID_PATTERN);
    expect('01M91G63ETB3EKNYZMSG32J4TY').toMatch(RUN_ID_PATTERN);
  });

  it('refuses paths, lower case, letters outside the alphabet, other lengths, and timestamps past 2^48 ms', () => {
    for (const bad of [
      '../../x',
      '01M91G63ETB3EKNYZMSG32J4T/',
      '01m91g63etb3eknyzmsg32j4ty',
      '01M91G63ETB3EKNYZMSG32J4TI', // I is not in Crockford's base 32
      '01M91G63ETB3EKNYZMSG32J4T',
      '01M91G63ETB3EKNYZMSG32J4TYY',
      '81M91G63ETB3EKNYZMSG32J4TY',
    ])
      expect(bad, bad).not.toMatch(RUN_ID_PATTERN);
  });
});
