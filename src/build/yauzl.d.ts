// yauzl ships no types; this declares the part of its API the zip extraction uses.
declare module 'yauzl' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';
  interface Entry {
    fileName: string;
    uncompressedSize: number;
    externalFileAttributes: number;
    versionMadeBy: number;
    generalPurposeBitFlag: number;
  }
  interface ZipFile extends EventEmitter {
    entryCount: number;
    readEntry(): void;
    openReadStream(entry: Entry, callback: (err: Error | null, stream: Readable) => void): void;
    close(): void;
  }
  interface Options {
    lazyEntries?: boolean;
    decodeStrings?: boolean;
    validateEntrySizes?: boolean;
    strictFileNames?: boolean;
  }
  function fromBuffer(
    buffer: Buffer,
    options: Options,
    callback: (err: Error | null, zipfile: ZipFile) => void,
  ): void;
  export default { fromBuffer };
  export type { Entry, ZipFile };
}
