export { Tokenizer, type EncodeOptions, type DecodeOptions } from './tokenizer.js';
export { DecodeStream, LineAnchorStream } from './streaming.js';
export { trainBpe, type TrainBpeOptions, type TrainProgress } from './train.js';
export { FLAVOURS, FLAVOUR_NAMES, flavour, type Flavour, type FlavourName } from './flavours.js';
export {
  TokenizerError,
  TokenizerConfigError,
  TokenizerInputError,
  UnknownTokenIdError,
  type TokenizerErrorCode,
} from './errors.js';
