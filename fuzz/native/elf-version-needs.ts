/**
 * @module fuzz/native/elf-version-needs
 * Reads and edits the version needs (.gnu.version_r) of an ELF64
 * little-endian shared object. Marking a need weak (VER_FLG_WEAK) makes the
 * dynamic loader accept a library that lacks that version; the symbols bound
 * to it must then come from elsewhere (fuzz/native/glibc-compat.cc).
 */

const SHT_GNU_VERNEED = 0x6ffffffe;
const VER_FLG_WEAK = 0x2;

export interface VersionNeed {
  /** The library the version is needed from ("libc.so.6"). */
  readonly file: string;
  /** The version ("GLIBC_2.38"). */
  readonly version: string;
  readonly weak: boolean;
  /** Offset of the Vernaux entry's flags in the file. */
  readonly flagsOffset: number;
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

/** Every version need of the object; throws when it is not an ELF64 little-endian file. */
export function versionNeeds(buf: Buffer): VersionNeed[] {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) {
    throw new Error('not an ELF64 little-endian object');
  }
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const section = (i: number) => {
    const o = shoff + i * shentsize;
    return { type: buf.readUInt32LE(o + 4), offset: Number(buf.readBigUInt64LE(o + 0x18)), link: buf.readUInt32LE(o + 0x28), info: buf.readUInt32LE(o + 0x2c) };
  };
  const out: VersionNeed[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    const strings = section(s.link).offset;
    let need = s.offset;
    // sh_info is the number of Verneed entries; each has vn_cnt Vernaux entries.
    for (let n = 0; n < s.info; n++) {
      const count = buf.readUInt16LE(need + 2);
      const file = cString(buf, strings + buf.readUInt32LE(need + 4));
      let aux = need + buf.readUInt32LE(need + 8);
      for (let k = 0; k < count; k++) {
        const flags = buf.readUInt16LE(aux + 4);
        out.push({ file, version: cString(buf, strings + buf.readUInt32LE(aux + 8)), weak: (flags & VER_FLG_WEAK) !== 0, flagsOffset: aux + 4 });
        aux += buf.readUInt32LE(aux + 12);
      }
      need += buf.readUInt32LE(need + 12);
    }
  }
  return out;
}

/** Marks the named versions' needs weak, in place; returns the needs it changed. */
export function markNeedsWeak(buf: Buffer, versions: ReadonlySet<string>): VersionNeed[] {
  const changed = versionNeeds(buf).filter((n) => versions.has(n.version) && !n.weak);
  for (const n of changed) buf.writeUInt16LE(buf.readUInt16LE(n.flagsOffset) | VER_FLG_WEAK, n.flagsOffset);
  return changed;
}
