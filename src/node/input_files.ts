/**
 * Reading a file the user names (a model, a primer, a config, a checkpoint's files) without trusting it:
 * only regular files are read (a FIFO would block forever, /dev/zero never ends, a folder is no file),
 * and a file over the limit of its kind is refused by its size before a byte is read. The file is opened
 * non-blocking and checked on the open descriptor, so it cannot be swapped for a FIFO between the check
 * and the read. Every error names the file, what was found and the limit.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { printableText } from '../music/midi_file.js';

/** A file that cannot be read as an input; the message names the file, what it is and what to pass. */
export class InputFileError extends Error {
  override readonly name = 'InputFileError';
  constructor(
    message: string,
    readonly path: string,
    /** 'missing', 'not-a-file', 'too-large' or 'unreadable'. */
    readonly problem: 'missing' | 'not-a-file' | 'too-large' | 'unreadable',
  ) {
    super(message);
  }
}

/** Without this flag (Windows), opening a FIFO may block; everywhere else it returns at once. */
const OPEN_NONBLOCKING = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * The bytes of the regular file at `path`, at most `maxBytes` of them. `what` says what the file is for
 * in messages ("model file", "primer MIDI file"); `limitName` names the limit (e.g. MAX_MODEL_FILE_BYTES).
 */
export function readRegularFile(path: string, what: string, maxBytes: number, limitName: string): Uint8Array<ArrayBuffer> {
  const shown = printableText(path);
  let fd: number;
  try {
    fd = openSync(path, OPEN_NONBLOCKING);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputFileError(`${what} not found: ${shown}`, path, 'missing');
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ELOOP' ? 'a symbolic link loop' : (code ?? (e as Error).message);
    throw new InputFileError(`cannot read the ${what} ${shown}: ${reason}`, path, 'unreadable');
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO (named pipe)' : info.isSocket() ? 'a socket' : 'a device';
      throw new InputFileError(`the ${what} ${shown} is ${kind}, not a regular file; pass a file (rltuner reads only regular files, so a pipe or device cannot make it wait or read forever)`, path, 'not-a-file');
    }
    if (info.size > maxBytes) {
      throw new InputFileError(`the ${what} ${shown} is ${info.size} bytes, above the ${maxBytes} bytes such a file may have (${limitName}); is it the right file?`, path, 'too-large');
    }
    const bytes = new Uint8Array(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, null);
      if (read === 0) break; // the file shrank since fstat: what is there is what is read
      filled += read;
    }
    return filled === bytes.length ? bytes : bytes.slice(0, filled);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    throw new InputFileError(`cannot read the ${what} ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path, 'unreadable');
  } finally {
    closeSync(fd);
  }
}
