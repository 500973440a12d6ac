/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}` (padded with spaces
 * to a multiple of 8, as Hugging Face writes it), then the raw little-endian tensor bytes, offsets relative
 * to the end of the header. Reading validates as strictly as the reference (Rust) implementation: the data
 * section must be covered exactly, without gaps, overlaps or trailing bytes.
 *
 * Files are read header-first; each tensor's bytes are then read on demand with a positioned read, so a
 * checkpoint never has to sit in memory whole. Sharded checkpoints (`model.safetensors.index.json` with a
 * `weight_map`) open through {@link openSafetensorsCheckpoint}.
 *
 * The implementation lives in `safetensors/`:
 * - `dtypes.ts`: the dtype names, element sizes, and the readable and writable sets;
 * - `header.ts`: the header length and JSON header, parsed and validated, or built for writing;
 * - `convert.ts`: one tensor's bytes to float32/int32 and back (F16, BF16, F64, integer conversions);
 * - `buffer.ts`: whole files in memory ({@link decodeSafetensors}, {@link encodeSafetensors});
 * - `file.ts`: files on disk ({@link SafetensorsReader}, {@link writeSafetensorsFile});
 * - `directory.ts`: checkpoint directories, single-file or sharded ({@link SafetensorsCheckpoint}).
 */
export { decodeSafetensors, encodeSafetensors } from './safetensors/buffer.ts';
export { decodeTensor, type TensorData, type TensorToWrite } from './safetensors/convert.ts';
export {
  openSafetensorsCheckpoint,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  SafetensorsCheckpoint,
} from './safetensors/directory.ts';
export {
  READABLE_DTYPES,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
  WRITABLE_DTYPES,
  type WritableDtype,
} from './safetensors/dtypes.ts';
export {
  type LazyTensorToWrite,
  readSafetensorsFile,
  SafetensorsReader,
  writeSafetensorsFile,
} from './safetensors/file.ts';
export {
  MAX_HEADER_BYTES,
  parseHeaderLength,
  parseSafetensorsHeader,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from './safetensors/header.ts';
